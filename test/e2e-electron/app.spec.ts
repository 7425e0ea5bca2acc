/**
 * The dashboard journeys through the desktop app (Playwright's Electron driver). They
 * need the Electron binary; where it is not installed they report themselves skipped,
 * with the reason, and run for real on a machine that has it (e.g. under xvfb-run).
 */
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { electronBinary, INSTALL_HINT } from '../../scripts/electron-binary.mjs';

const binary = electronBinary();
const missing = 'missing' in binary ? binary.missing : undefined;
// Say it where it cannot be missed: these journeys did not run here.
if (missing) console.warn(`\n*** e2e-electron SKIPPED: Electron binary not installed (${missing}). ${INSTALL_HINT} ***\n`);

test.describe('desktop app (Electron)', () => {
  test.skip(missing !== undefined, `Electron binary not installed: ${missing}; ${INSTALL_HINT}`);
  test.describe.configure({ mode: 'serial' });

  let app: ElectronApplication;
  let page: Page;
  let userData: string;

  test.beforeAll(async () => {
    userData = mkdtempSync(join(tmpdir(), 'switchboard-electron-'));
    app = await electron.launch({ executablePath: (binary as { path: string }).path, args: ['.', `--user-data-dir=${userData}`] });
    page = await app.firstWindow();
  });

  test.afterAll(async () => {
    await app?.close();
    rmSync(userData, { recursive: true, force: true });
  });

  test('opens a sandboxed, context-isolated window that shows live figures', async () => {
    await expect(page.getByTestId('connection-status')).toHaveText('Connected');
    await expect(page.getByTestId('model-active-version-cartpole')).toHaveText(/^v\d+$/); // the default demo: the CartPole loop
    expect(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (window as unknown as { switchboard?: { command?: unknown } }).switchboard?.command)).toBe(
      'function',
    );
    // No Node in the page: nodeIntegration off, context isolated (the bridge is the only API).
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
  });

  test('pauses a queue and changes the batch size through IPC', async () => {
    await page.getByTestId('nav-queues').click();
    await page.getByTestId('queue-pause-cartpole').click();
    await expect(page.getByTestId('queue-resume-cartpole')).toBeVisible();
    await page.getByTestId('queue-resume-cartpole').click();
    await page.getByTestId('batch-size-set-cartpole-input').fill('16');
    await page.getByTestId('batch-size-set-cartpole').click();
    await expect(page.getByTestId('batch-size-cartpole')).toHaveText('16');
  });

  test('refuses malformed commands from the renderer', async () => {
    const reply = await page.evaluate(() =>
      (window as unknown as { switchboard: { command(n: string, a: unknown): Promise<unknown> } }).switchboard.command('queue.configure', {
        model: 'cartpole',
        capacity: -5,
      }),
    );
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_COMMAND' } });
  });

  test('shows the experience buffer and writes a checkpoint into the user data folder through IPC', async () => {
    await page.getByTestId('nav-experience').click();
    await expect(page.getByTestId('experience-checkpoint-dir')).toHaveText(join(userData, 'experience'));
    await page.getByTestId('experience-checkpoint').click();
    await expect(page.getByTestId('experience-checkpoint-result')).toHaveText('done');
  });

  test('shows per-process CPU and memory from app.getAppMetrics', async () => {
    await page.getByTestId('nav-workers').click();
    await expect(page.getByText('Utility')).toBeVisible();
  });
});
