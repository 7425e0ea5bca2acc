/**
 * The window's size and position, remembered between runs in userData. The file is
 * validated; a missing or damaged one means default bounds, never a crash.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const BoundsSchema = z.strictObject({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(640).max(10_000),
  height: z.number().int().min(480).max(10_000),
  maximized: z.boolean().default(false),
});
export type WindowBounds = z.infer<typeof BoundsSchema>;

const DEFAULT_BOUNDS: WindowBounds = { width: 1280, height: 820, maximized: false };

export function loadWindowBounds(userData: string): WindowBounds {
  try {
    const parsed = BoundsSchema.safeParse(JSON.parse(readFileSync(join(userData, 'window-state.json'), 'utf8')));
    return parsed.success ? parsed.data : DEFAULT_BOUNDS;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return DEFAULT_BOUNDS;
    throw error;
  }
}

export function saveWindowBounds(userData: string, bounds: WindowBounds): void {
  writeFileSync(join(userData, 'window-state.json'), JSON.stringify(bounds));
}
