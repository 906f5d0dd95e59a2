// `engine compat --from OLD --to NEW [--json]`: may NEW resume from OLD's checkpoint? Prints the
// upgrade report of @sluice/query-plan (human lines, or exactly the report object with --json).
// Exit codes: 0 compatible (allowed and caveats only), 3 incompatible, 1 a spec does not compile
// (FILE:LINE:COL errors, as `validate` prints them).
import { parseArgs } from 'node:util';
import { checkUpgrade, compileSpec, formatErrors, formatUpgradeReport } from '@sluice/query-plan';

export const COMPAT_USAGE = `  compat --from OLD_SPEC --to NEW_SPEC [--json]
      may the new spec resume from the old one's checkpoint? prints each change (allowed,
      caveat, incompatible); exit 0 compatible, 3 incompatible, 1 invalid spec`;

/** 3, not 1 or 2: scripts must tell "refused upgrade" from "bad input" and "bad usage". */
export const EXIT_INCOMPATIBLE = 3;

export interface CompatIo {
  readSpec(file: string): string;
  stdout(text: string): void;
  stderr(text: string): void;
}

export function compatCommand(argv: string[], io: CompatIo): number {
  const { values } = parseArgs({
    args: argv,
    options: { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  if (!values.from || !values.to) throw new Error('compat: --from FILE and --to FILE are required');
  const versions = [];
  let invalid = false;
  for (const file of [values.from, values.to]) {
    const result = compileSpec(io.readSpec(file), file);
    if (result.ok) versions.push(result);
    else {
      io.stderr(`${formatErrors(result.errors, file)}\n`);
      invalid = true;
    }
  }
  const [before, after] = versions;
  if (invalid || !before || !after) return 1;
  const report = checkUpgrade(before, after);
  io.stdout(`${values.json ? JSON.stringify(report, null, 2) : formatUpgradeReport(report)}\n`);
  return report.compatible ? 0 : EXIT_INCOMPATIBLE;
}
