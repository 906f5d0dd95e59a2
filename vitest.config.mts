// One Vitest config for the whole workspace. Each project gets a "-unit" suite (pure logic, no
// servers) and, where it needs the local stack, an "-int" suite (real PostgreSQL/Redis/Kafka).
// SWC (unplugin-swc) compiles TS so NestJS gets decorator metadata, which esbuild does not emit.
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import path from 'node:path';

const __dirname = import.meta.dirname;

const alias = {
  '@sluice/alerting': path.resolve(__dirname, 'libs/alerting/src/index.ts'),
  // The CPU limit bounds module alone (CLI, dashboard), listed before the package (prefix match).
  '@sluice/contracts/src': path.resolve(__dirname, 'libs/contracts/src'),
  '@sluice/contracts': path.resolve(__dirname, 'libs/contracts/src/index.ts'),
  '@sluice/kafka': path.resolve(__dirname, 'libs/kafka/src/index.ts'),
  // One module of the library, not its index (the CLI loads the duration parser alone): listed
  // before the package, whose alias would otherwise match the prefix.
  '@sluice/query-plan/src': path.resolve(__dirname, 'libs/query-plan/src'),
  '@sluice/query-plan': path.resolve(__dirname, 'libs/query-plan/src/index.ts'),
  '@sluice/scaling': path.resolve(__dirname, 'libs/scaling/src/index.ts'),
  '@sluice/testing': path.resolve(__dirname, 'libs/testing/src/index.ts'),
};

const projects = [
  'control-plane',
  'engine',
  'cli',
  'contracts',
  'kafka',
  'query-plan',
  'scaling',
  'alerting',
].map((name) => {
  const root = ['control-plane', 'engine', 'cli'].includes(name) ? `apps/${name}` : `libs/${name}`;
  return { name, root };
});

export default defineConfig({
  test: {
    // Root-level so it runs once for all projects (per-project setups would run concurrently).
    // It only starts/migrates the stack when an integration project is selected.
    globalSetup: [path.resolve(__dirname, 'scripts/test/global-setup.ts')],
    projects: [
      ...projects.map(({ name, root }) => ({
        plugins: [swc.vite({ tsconfigFile: path.resolve(__dirname, 'tsconfig.base.json') })],
        resolve: { alias },
        test: {
          name: `${name}-unit`,
          root,
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
          environment: 'node',
        },
      })),
      ...projects.map(({ name, root }) => ({
        plugins: [swc.vite({ tsconfigFile: path.resolve(__dirname, 'tsconfig.base.json') })],
        resolve: { alias },
        test: {
          name: `${name}-int`,
          root,
          include: ['test/**/*.int.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Integration suites share one broker/database; running files one at a time keeps
          // them from fighting over the 2 cores and over shared topics.
          fileParallelism: false,
        },
      })),
      {
        // Checks of the repository itself (documentation that names files), no servers.
        test: {
          name: 'scripts-unit',
          root: 'scripts',
          include: ['test/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        // Pure arithmetic of the benchmarks (the autoscaling frontier's medians and verdicts); no servers.
        resolve: { alias },
        test: {
          name: 'bench-unit',
          root: 'bench',
          include: ['**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        // The dashboard in Debian's Chromium (playwright-core) against a real control plane, engines
        // and the local stack (e2e/); it builds the dashboard itself when the build is stale.
        resolve: { alias },
        test: {
          name: 'e2e',
          root: 'e2e',
          include: ['**/*.e2e.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        // Pure logic of the dashboard (session cookie, CSRF check, fleet rows, the shared state
        // components rendered to HTML); no server. `@/` is the dashboard's own path alias.
        resolve: { alias: { ...alias, '@': path.resolve(__dirname, 'apps/dashboard') } },
        // Next's tsconfig keeps JSX for Next to compile ("preserve"); tests compile it themselves.
        oxc: { jsx: { runtime: 'automatic' } },
        test: {
          name: 'dashboard-unit',
          root: 'apps/dashboard',
          include: ['**/*.spec.ts'],
          exclude: ['**/node_modules/**', '**/.next/**'],
          environment: 'node',
        },
      },
      {
        // The local-stack scripts themselves (stack CLI, demo) from a fresh clone; plain TS.
        test: {
          name: 'scripts-int',
          root: 'scripts',
          include: ['test/**/*.int.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // Packaging: generated chart files in sync with their sources (no tools, no servers).
        test: { name: 'helm-unit', root: 'helm', include: ['test/**/*.spec.ts'], environment: 'node' },
      },
      {
        // Packaging with the pinned Go tools (helm, helm-docs, promtool; scripts/tools/go-tools.sh):
        // chart rendering and lint, the values schema, the README, the alert rules. No API server.
        test: {
          name: 'helm-int',
          root: 'helm',
          include: ['test/**/*.int.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
