// `npm start`: the desktop app. Builds, makes sure the Electron binary is there (fetching
// it with Electron's own installer when it is not), then launches the app. Where no
// binary can be had, it says exactly what to run, and how to use the headless mode.
import { spawnSync } from 'node:child_process';
import { electronBinary, INSTALL_HINT } from './electron-binary.mjs';

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build']);
let binary = electronBinary();
if ('missing' in binary) {
  console.log(`Switchboard: ${binary.missing}; fetching it with Electron's installer...`);
  spawnSync(process.execPath, ['node_modules/electron/install.js'], {
    stdio: 'inherit',
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
  });
  binary = electronBinary();
}
if ('missing' in binary) {
  console.error(
    `Switchboard: cannot start the desktop app: ${binary.missing}.\n  ${INSTALL_HINT}\n  Without a display or binary, run the same product headless: npm run serve`,
  );
  process.exit(1);
}
run(binary.path, ['.']);
