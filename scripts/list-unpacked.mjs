// Lists the files electron-builder's `asarUnpack` globs select from this checkout, so
// the packaging config can be checked on a machine that cannot build installers (no
// Electron download). Uses the same matcher electron-builder uses (minimatch).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { minimatch } = require('minimatch');
const config = readFileSync('build/electron-builder.yml', 'utf8');
const patterns = [...config.matchAll(/^asarUnpack:\n((?:\s+- .+\n|\s+#.*\n)+)/gm)][0][1]
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line.startsWith('- '))
  .map((line) => line.slice(2).replace(/^"|"$/g, ''));

function* walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield relative('.', path);
  }
}

const candidates = [...walk('out'), ...walk('node_modules/onnxruntime-node')];
const unpacked = candidates.filter((file) => patterns.some((p) => minimatch(file, p, { dot: true })));
console.log(`asarUnpack patterns: ${patterns.join(', ')}`);
for (const file of unpacked) console.log(`  ${file}`);
const native = unpacked.filter((f) => f.endsWith('.node') || /\.so(\.\d+)*$|\.dylib$|\.dll$/.test(f));
console.log(
  `${unpacked.length} files unpacked, ${native.length} native (${native.filter((f) => f.includes('linux/x64')).length} for linux/x64)`,
);
if (!native.some((f) => f.endsWith('linux/x64/onnxruntime_binding.node'))) {
  console.error('onnxruntime-node binding for linux/x64 is not unpacked');
  process.exit(1);
}
