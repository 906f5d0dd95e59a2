// `npm run -s engine:bundle [-- --out FILE]`: builds the engine bundle of the current sources
// (engine-bundle.ts) into .sluice/engine-bundle/ and prints its path; with --out, copies it there
// too (the image's build runs it, and its entrypoint starts engines from that file).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildEngineBundle, engineBundleDir } from '../apps/control-plane/src/runtime/engine-bundle';

const ROOT = path.resolve(__dirname, '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });

async function main(): Promise<void> {
  const file = await buildEngineBundle(ROOT, engineBundleDir(ROOT), (f) =>
    process.stderr.write(`[engine:bundle] building ${f}\n`),
  );
  if (values.out) {
    const out = path.resolve(values.out);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(file, out);
    process.stdout.write(`${out}\n`);
  } else process.stdout.write(`${file}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`[engine:bundle] ${e.message}\n`);
  process.exit(1);
});
