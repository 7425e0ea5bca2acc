// Checks the packaging config on a machine that cannot build installers (no Electron
// download): it is read with electron-builder's own loader and schema, the files its
// `asarUnpack` globs select from this checkout are listed (with the matcher
// electron-builder uses, minimatch), and the security fuses must be set as the app needs.
// Run by `npm test` (after the build) and by `npm run dist:check`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { minimatch } = require('minimatch');
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config');

/** The fuses a packaged Switchboard must have (see build/electron-builder.yml). */
const REQUIRED_FUSES = {
  runAsNode: false,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  enableCookieEncryption: true,
  grantFileProtocolExtraPrivileges: false,
};

const failures = [];
const configAt = process.argv.indexOf('--config');
const configPath = configAt > 0 ? process.argv[configAt + 1] : 'build/electron-builder.yml';
const config = await getConfig(process.cwd(), configPath, null);
await validateConfiguration(config, { isEnabled: false, add() {} });

for (const [fuse, wanted] of Object.entries(REQUIRED_FUSES)) {
  const value = config.electronFuses?.[fuse];
  if (value !== wanted) failures.push(`fuse ${fuse} is ${value === undefined ? 'not set' : value}, must be ${wanted}`);
}
console.log(
  `fuses: ${
    Object.entries(config.electronFuses ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(', ') || 'none'
  }`,
);

const patterns = config.asarUnpack ?? [];
function* walk(dir) {
  if (!existsSync(dir)) return; // not built yet: reported below as not unpacked
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield relative('.', path);
  }
}
const candidates = [...walk('out'), ...walk('node_modules/onnxruntime-node')];
const unpacked = candidates.filter((file) => patterns.some((p) => minimatch(file, p, { dot: true })));
console.log(`asarUnpack patterns: ${patterns.join(', ')}`);
if (process.argv.includes('--list')) for (const file of unpacked) console.log(`  ${file}`);
const native = unpacked.filter((f) => f.endsWith('.node') || /\.so(\.\d+)*$|\.dylib$|\.dll$/.test(f));
console.log(
  `${unpacked.length} files unpacked, ${native.length} native (${native.filter((f) => f.includes('linux/x64')).length} for linux/x64)`,
);
if (!native.some((f) => f.endsWith('linux/x64/onnxruntime_binding.node')))
  failures.push('onnxruntime-node binding for linux/x64 is not unpacked');
if (!unpacked.some((f) => f.startsWith('out/main/'))) failures.push('out/main (worker and updater entries) is not unpacked');

if (failures.length > 0) {
  for (const failure of failures) console.error(`dist:check: ${failure}`);
  process.exit(1);
}
console.log('dist:check: packaging config ok');
