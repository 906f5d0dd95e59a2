#!/usr/bin/env node
// Entry point of the `sluice` command. It runs the TypeScript sources through tsx's CommonJS
// hook, so `npx sluice` works on a fresh clone after `npm ci` with no build step. (The sources
// load lazily with require(), not import(): the hook covers require only.)
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS shim, run by node as is */
require('tsx/cjs');
require('../src/main.ts');
