/**
 * The import rules of the tree (issue 19), checked by `npm run lint:deps` and by
 * test/house/dependency-rules.test.ts.
 *
 * - The local cloud emulates one AWS service per folder under lib/local/services/. As AWS
 *   services talk only through their APIs, code outside a service folder imports only the
 *   service's index.ts, never a module behind it. (Tests may reach internals: they test them.)
 * - What bin/, lib/ and lambdas/ import at run time is in `dependencies`, not `devDependencies`.
 * - No import cycles in lib/ or lambdas/. tsPreCompilationDeps counts `import type`: a type
 *   cycle still ties two modules into one unit that must be read and changed together.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'service-internals-from-another-service',
      comment: 'A service uses another only through its public interface (lib/local/services/<service>/index.ts).',
      severity: 'error',
      from: { path: '^lib/local/services/([^/]+)/' },
      to: {
        path: '^lib/local/services/[^/]+/',
        pathNot: ['^lib/local/services/$1/', '^lib/local/services/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'service-internals-from-outside',
      comment: 'Code outside lib/local/services/ uses a service only through its index.ts.',
      severity: 'error',
      from: { path: '^(bin|lib|lambdas)/', pathNot: '^lib/local/services/' },
      to: { path: '^lib/local/services/[^/]+/', pathNot: '^lib/local/services/[^/]+/index\\.ts$' },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'What bin/, lib/ and lambdas/ import at run time (synth, mlship up, the tasks) is a dependency, not a devDependency.',
      severity: 'error',
      from: { path: '^(bin|lib|lambdas)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles in lib/ and lambdas/, type-only imports included.',
      severity: 'error',
      from: { path: '^(lib|lambdas)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
