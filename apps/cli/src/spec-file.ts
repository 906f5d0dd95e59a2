// Reading a spec file for upload: bounded by the compiler's own size limit (the API refuses a
// larger spec anyway, after the upload), and kept as text so error positions point into it.
import fs from 'node:fs';
import { CliError } from './exit-codes';
import { inlineStatefulModule } from './stateful-module-file';

export interface SpecFile {
  file: string;
  text: string;
}

export function readSpecFile(file: string): SpecFile {
  // The limits module alone, not the compiler: loading the SQL parser would slow every command.
  const { SPEC_MAX_BYTES, formatLimit } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@sluice/query-plan/src/limits') as typeof import('@sluice/query-plan/src/limits');
  let size: number;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new CliError(`${file} is not a file; -f takes a query spec (YAML or JSON)`);
    size = stat.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(
      `cannot read spec ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (size > SPEC_MAX_BYTES)
    throw new CliError(
      `${file} is ${formatLimit(size)} bytes; a spec may have at most ${formatLimit(SPEC_MAX_BYTES)} bytes`,
    );
  return { file, text: fs.readFileSync(file, 'utf8') };
}

/**
 * A spec file as uploaded: with its stateful function's module inline (stateful-module-file.ts),
 * since the control plane never sees files next to the spec. Errors point into this text.
 */
export async function readSpecForUpload(file: string): Promise<SpecFile> {
  const spec = readSpecFile(file);
  return { file, text: await inlineStatefulModule(file, spec.text) };
}
