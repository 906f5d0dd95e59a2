// Flat config: typescript-eslint for all TS, Nx module boundaries enforce the scope/type tags
// declared in each project.json (shared libs may import only shared libs; apps never import apps).
import nextPlugin from '@next/eslint-plugin-next';
import nx from '@nx/eslint-plugin';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default [
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.sluice/**',
      '**/generated/**',
      '**/.next/**',
      '**/next-env.d.ts',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          // Tests that need the local Kubernetes API server start it through the stack scripts, which
          // belong to no Nx project (as e2e/ and helm/ tests do with the rest of the stack).
          allow: ['../**/scripts/test/kube-cluster'],
          depConstraints: [
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            {
              sourceTag: 'scope:control-plane',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:control-plane'],
            },
            { sourceTag: 'scope:engine', onlyDependOnLibsWithTags: ['scope:shared', 'scope:engine'] },
            { sourceTag: 'scope:dashboard', onlyDependOnLibsWithTags: ['scope:shared', 'scope:dashboard'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared', 'scope:cli'] },
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared'] },
            // Pure libraries (policies, planner, contracts, alert evaluation) are logic only:
            // no framework, database, broker or queue client, so they run anywhere and unit
            // tests need no server. I/O belongs to the apps' repositories and adapters.
            {
              sourceTag: 'purity:pure',
              bannedExternalImports: [
                '@nestjs/*',
                '@prisma/*',
                'prisma',
                'kafkajs',
                'bullmq',
                'ioredis',
                'pg',
                'pg-*',
                '@kubernetes/*',
                'express',
                'pino*',
                'prom-client',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    // The dashboard (Next.js, React): the rules of hooks and Next's own recommendations.
    files: ['apps/dashboard/**/*.ts', 'apps/dashboard/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks, '@next/next': nextPlugin },
    settings: { next: { rootDir: 'apps/dashboard/' } },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      ...nextPlugin.configs.recommended.rules,
      ...nextPlugin.configs['core-web-vitals'].rules,
    },
  },
];
