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
      comment: 'The renderer runs no code of the main process: it shares the contract (src-preload) and types only.',
      from: { path: '^src-renderer/' },
      to: { path: '^src-main/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^out/' },
  },
};
