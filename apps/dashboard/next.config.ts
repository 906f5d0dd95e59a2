import fs from 'node:fs';
import path from 'node:path';
import type { NextConfig } from 'next';

const repoRoot = path.resolve(__dirname, '..', '..');

/**
 * The directory holding both the repository and the real node_modules: the repository root in a
 * normal clone; above it when node_modules is a folder of symlinks into another checkout (a git
 * worktree sharing one install), which Turbopack refuses to resolve outside its root.
 */
function workspaceRoot(): string {
  const real = fs.realpathSync(path.join(repoRoot, 'node_modules', 'next'));
  let root = repoRoot;
  while (path.relative(root, real).startsWith('..')) root = path.dirname(root);
  return root;
}

const config: NextConfig = {
  // The spec compiler is the workspace's TypeScript library (the one the API uses), compiled by Next;
  // so are the contracts' shared bounds (the CPU limit control).
  transpilePackages: ['@sluice/query-plan', '@sluice/contracts'],
  // The monorepo root, so that Next traces files from the hoisted node_modules.
  outputFileTracingRoot: workspaceRoot(),
  turbopack: { root: workspaceRoot() },
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ];
  },
};

export default config;
