// Module boundaries, checked by `npm run lint` (dependency-cruiser). docs/ARCHITECTURE.md, section 2.
// Test files (*.test.ts, *.test-support.ts) are left out: tests set up data across modules.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-foreign-repository',
      comment:
        "A module uses another module through its services, never its repository (src/modules/README.md, 'One way in').",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/.+[.]repository[.]ts$', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'no-repository-outside-modules',
      comment:
        "Code outside src/modules reaches a module's data through its services, never its repository.",
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/modules/' },
      to: { path: '^src/modules/[^/]+/.+[.]repository[.]ts$' },
    },
    {
      name: 'foundations-import-no-module',
      comment:
        'lib/, db/ and infra/ are below every module: they import no module, plugin or entry point (src/infra/README.md).',
      severity: 'error',
      from: { path: '^src/(lib|db|infra)/' },
      to: { path: '^src/(modules|plugins|backup|seed)/|^src/(app|cli|server|context)[.]ts$' },
    },
    {
      name: 'no-folder-cycle',
      comment:
        'Dependencies between module folders (src/modules/*, plugins, lib, db, infra) point one way: two folders never import each other, through any files.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/(modules/[^/]+|plugins|lib|db|infra)$' },
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^src/',
    exclude: { path: '[.]test[.]ts$|[.]test-support[.]ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
