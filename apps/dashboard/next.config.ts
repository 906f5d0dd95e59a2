import path from 'node:path';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // The spec compiler is the workspace's TypeScript library (the one the API uses), compiled by Next.
  transpilePackages: ['@sluice/query-plan'],
  // The monorepo root, so that Next traces files from the hoisted node_modules.
  outputFileTracingRoot: path.resolve(__dirname, '..', '..'),
  turbopack: { root: path.resolve(__dirname, '..', '..') },
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
