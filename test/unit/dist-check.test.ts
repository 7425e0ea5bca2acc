import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** dist:check on a copy of the packaging config with `edit` applied; its exit code and what it printed. */
async function distCheck(edit: (yaml: string) => string): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-dist-check-'));
  made.push(dir);
  const config = join(dir, 'electron-builder.yml');
  writeFileSync(config, edit(readFileSync(join(root, 'build/electron-builder.yml'), 'utf8')));
  return promisify(execFile)(process.execPath, ['scripts/list-unpacked.mjs', '--config', config], { cwd: root }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
  );
}

describe('dist:check', () => {
  it('refuses a packaging config whose fuses let the app run as Node or load code from outside its asar', async () => {
    const result = await distCheck((yaml) =>
      yaml.replace('runAsNode: false', 'runAsNode: true').replace('  onlyLoadAppFromAsar: true\n', ''),
    );
    expect(result.code).toBe(1);
    expect(result.output).toContain('fuse runAsNode is true, must be false');
    expect(result.output).toContain('fuse onlyLoadAppFromAsar is not set, must be true');
  });

  it("reads the config with electron-builder's own YAML loader (quoted globs included)", async () => {
    const result = await distCheck((yaml) => yaml);
    expect(result.output).toContain('asarUnpack patterns: **/node_modules/onnxruntime-node/bin/**, out/main/**');
    expect(result.output).not.toMatch(/fuse .* must be/);
  });
});
