/**
 * Which repository the desktop app serves, remembered between runs in its data folder:
 * the operator's last choice (the CartPole demo, an empty repository of their own, or a
 * folder they opened) and the folders opened recently, most recent first. The file is
 * validated; a missing or damaged one means "not chosen yet" (the first-run question),
 * never a crash. Written aside and renamed into place.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const ChoiceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('demo') }),
  z.strictObject({ kind: z.literal('empty') }),
  z.strictObject({ kind: z.literal('folder'), path: z.string().min(1).max(4096) }),
]);
export type RepositoryChoice = z.infer<typeof ChoiceSchema>;

const SettingsSchema = z.strictObject({
  choice: ChoiceSchema.nullable().default(null),
  recent: z.array(z.string().min(1).max(4096)).max(50).default([]),
});
export type RepositorySettings = z.infer<typeof SettingsSchema>;

/** Folders listed under File › Open Recent at most. */
export const MAX_RECENT = 10;
const FILE = 'repositories.json';

export class DesktopRepositories {
  private settings: RepositorySettings;

  constructor(private readonly dataDir: string) {
    this.settings = read(join(dataDir, FILE));
  }

  /** The last choice, or null on a first run. */
  get choice(): RepositoryChoice | null {
    return this.settings.choice;
  }

  get recent(): readonly string[] {
    return this.settings.recent;
  }

  /** Remember what is served now; a folder goes to the top of the recent list. */
  remember(choice: RepositoryChoice): void {
    const recent =
      choice.kind === 'folder'
        ? [resolve(choice.path), ...this.settings.recent.filter((p) => p !== resolve(choice.path))]
        : this.settings.recent;
    this.settings = {
      choice: choice.kind === 'folder' ? { kind: 'folder', path: resolve(choice.path) } : choice,
      recent: recent.slice(0, MAX_RECENT),
    };
    const path = join(this.dataDir, FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.settings, null, 2));
    renameSync(`${path}.tmp`, path);
  }

  /** Where each choice's models are: the demo's and the empty repository live in the data folder. */
  repositoryOf(choice: RepositoryChoice): string {
    if (choice.kind === 'folder') return resolve(choice.path);
    return join(this.dataDir, choice.kind === 'demo' ? 'repository' : 'models');
  }
}

function read(path: string): RepositorySettings {
  try {
    const parsed = SettingsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : SettingsSchema.parse({});
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return SettingsSchema.parse({});
    throw error;
  }
}

/** The repository a command line names: the first argument that is not an option (Electron's own come first). */
export function repositoryArgument(argv: readonly string[]): string | undefined {
  const args = argv.slice(1).filter((a) => !a.startsWith('-'));
  // In a packaged app argv[1] is the first user argument; unpackaged (electron .), argv[1] is the app's folder.
  const candidates = args.filter((a) => a !== '.' && !a.endsWith('.js') && !a.endsWith('.asar'));
  return candidates.at(-1);
}
