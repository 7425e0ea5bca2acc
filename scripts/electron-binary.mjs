// Where the Electron binary is, or why there is none. Shared by `npm start` and the
// Electron end-to-end tests. (The npm package installs without its binary when its
// install script is denied, as package.json's allowScripts does.)
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** @returns {{ path: string } | { missing: string }} */
export function electronBinary() {
  try {
    const path = require('electron');
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { missing: `the Electron binary is not at ${path}` };
  } catch (error) {
    return { missing: `the electron package has no binary (${error.message.split('\n')[0]})` };
  }
}

export const INSTALL_HINT = 'install it with: node node_modules/electron/install.js   (needs access to the Electron download host)';
