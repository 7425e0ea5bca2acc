/**
 * The desktop app's repositories, headless (the dialogs and menus are Electron glue,
 * covered by the Electron journeys where a binary exists): what is remembered between
 * runs, and switching the served repository at run time, which drains and stops the host
 * being left and starts one on the new repository; a repository that cannot be opened
 * leaves the previous one serving.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DesktopRepositories, MAX_RECENT, repositoryArgument } from '../../src-main/host/desktop-repositories.js';
import { DesktopSession } from '../../src-main/host/desktop-session.js';
import { publishModel } from '../../src-main/repository/publish.js';
import { forkLauncher } from '../../src-main/updater/launcher.js';
import { smallMlp } from '../fixtures/models.js';
import { until } from './helpers.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sb-desktop-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('DesktopRepositories', () => {
  it('asks on a first run, then remembers the choice and the recent folders, most recent first', () => {
    expect(new DesktopRepositories(dataDir).choice).toBeNull();
    const repositories = new DesktopRepositories(dataDir);
    for (let i = 0; i < MAX_RECENT + 2; i++) repositories.remember({ kind: 'folder', path: `/models/${i}` });
    repositories.remember({ kind: 'folder', path: '/models/3' });
    repositories.remember({ kind: 'empty' });
    const again = new DesktopRepositories(dataDir);
    expect(again.choice).toEqual({ kind: 'empty' });
    expect(again.recent[0]).toBe('/models/3');
    expect(again.recent).toHaveLength(MAX_RECENT);
    expect(new Set(again.recent).size).toBe(MAX_RECENT);
    expect(again.repositoryOf({ kind: 'demo' })).toBe(join(dataDir, 'repository'));
    expect(again.repositoryOf({ kind: 'empty' })).toBe(join(dataDir, 'models'));
  });

  it('treats a damaged settings file as a first run', () => {
    writeFileSync(join(dataDir, 'repositories.json'), '{"choice": {"kind": "folder"}');
    expect(new DesktopRepositories(dataDir).choice).toBeNull();
    writeFileSync(join(dataDir, 'repositories.json'), JSON.stringify({ choice: { kind: 'nope' }, recent: [] }));
    expect(new DesktopRepositories(dataDir).choice).toBeNull();
  });

  it('takes a repository folder from the command line', () => {
    expect(repositoryArgument(['/opt/Switchboard/switchboard', '/home/me/models'])).toBe('/home/me/models');
    expect(repositoryArgument(['/usr/bin/electron', '.', '--no-sandbox'])).toBeUndefined();
    expect(repositoryArgument(['/opt/Switchboard/switchboard', '--enable-logging'])).toBeUndefined();
  });
});

describe('DesktopSession', () => {
  it('switches repositories at run time: the old host drains and stops, the new one serves, and a bad choice keeps the old', async () => {
    const mine = join(dataDir, 'mine');
    await publishModel(mine, 'tiny', 1, smallMlp());
    const repositories = new DesktopRepositories(dataDir);
    const servers: string[] = [];
    const session = new DesktopSession({
      dataDir,
      launcher: forkLauncher(),
      repositoryOf: (choice) => repositories.repositoryOf(choice),
      startServers: (host) => {
        servers.push(`started ${host.repository!}`);
        return Promise.resolve({ stop: () => (servers.push(`stopped ${host.repository!}`), Promise.resolve()) });
      },
    });
    const switched: string[] = [];
    session.onSwitch((now) => switched.push(now.host.repository!));
    try {
      await session.switchTo({ kind: 'empty' });
      const empty = session.current.host;
      expect(empty.repository).toBe(join(dataDir, 'models'));
      expect(empty.cartpole).toBeUndefined(); // an empty repository of the operator's: no demo publishes into it

      await session.switchTo({ kind: 'folder', path: mine });
      const served = session.current.host;
      expect(served.repository).toBe(mine);
      expect(empty.engine.snapshot(0).state).toBe('stopped');
      await until(() => served.engine.modelNames().includes('tiny'), 30_000, 'the folder’s model served');
      const answer = await served.engine.infer('tiny', { obs: { data: new Float32Array(16), dims: [1, 16] } });
      expect(answer.modelVersion).toBe(1);

      const notAFolder = join(dataDir, 'a-file');
      writeFileSync(notAFolder, 'x');
      await expect(session.switchTo({ kind: 'folder', path: notAFolder })).rejects.toThrow(/cannot use .* as the model repository/);
      expect(session.current.host.repository).toBe(mine); // started again on what was served
      await until(() => session.current.host.engine.modelNames().includes('tiny'), 30_000, 'the folder served again');
      expect(servers).toEqual([
        `started ${join(dataDir, 'models')}`,
        `stopped ${join(dataDir, 'models')}`,
        `started ${mine}`,
        `stopped ${mine}`,
        `started ${mine}`,
      ]);
      expect(switched).toEqual([join(dataDir, 'models'), mine, mine]);
      expect(readdirSync(mine)).toEqual(['tiny']); // nothing published into the operator's folder
    } finally {
      await session.stop();
    }
  }, 120_000);
});
