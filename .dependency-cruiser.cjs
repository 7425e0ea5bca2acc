/* global module -- a CommonJS config file, as dependency-cruiser reads it */
/**
 * Import rules, checked in `npm test` (npm run lint:deps). dependency-cruiser rather than
 * eslint's import plugins: it sees type-only imports as such (the renderer may share the
 * engine's types, not its code) and finds cycles across the whole graph.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import loop makes initialisation order matter and modules impossible to test alone.',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'engine-stays-the-ground-floor',
      severity: 'error',
      comment: 'The engine runs in plain Node: nothing from Electron, the shells, the servers or the UI.',
      from: { path: '^src-main/engine/' },
      to: {
        path: [
          '^src-main/(server|host|electron|updater|repository|demo|actors|learner|experience)/',
          '^src-main/(cli|index)\\.ts$',
          '^src-renderer/',
          '^node_modules/electron/',
        ],
      },
    },
    {
      name: 'only-the-shell-imports-electron',
      severity: 'error',
      comment: 'Everything but the Electron entry, its glue and the preload runs and is tested without Electron.',
      from: { pathNot: ['^src-main/index\\.ts$', '^src-main/electron/', '^src-preload/index\\.ts$'] },
      to: { path: '^node_modules/electron/' },
    },
    {
      name: 'renderer-reaches-main-only-through-the-contract',
      severity: 'error',
      comment:
        'The renderer imports nothing of the main process, not even types: what crosses is typed in the contract (src-preload/wire.ts).',
      from: { path: '^src-renderer/' },
      to: { path: '^src-main/' },
    },
    {
      name: 'the-contract-runs-no-main-code',
      severity: 'error',
      comment: "The renderer bundles the contract: it may name the engine side's types (erased at build), never its code.",
      from: { path: '^src-preload/' },
      to: { path: '^src-main/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'main-reads-only-the-contracts-limits-and-types',
      severity: 'error',
      comment:
        'The engine, updater and repository share limits.ts and format.ts (pure, import-free); the rest of the contract is for the host and the shells.',
      from: { path: '^src-main/(engine|updater|repository)/' },
      to: { path: '^src-preload/', pathNot: '^src-preload/(limits|format)\\.ts$' },
    },
    {
      name: 'shared-helpers-import-nothing',
      severity: 'error',
      comment: 'limits.ts and format.ts are read by the engine and bundled by the renderer: they must stay free of dependencies.',
      from: { path: '^src-preload/(limits|format)\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^out/' },
  },
};
