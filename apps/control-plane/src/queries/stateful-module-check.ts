// A stateful function is code the engine runs (a `stateful:` spec with its module inline in
// `stateful.source`): code execution on the engines' hosts, with their network and the sink and
// table connections they are given. So deploying one is a privilege of its own
// (SLUICE_STATEFUL_MODULES: `admin` by default, `operator` to allow operators, `off` to refuse
// them all), and the code is compiled here, by the same function the engine uses, so a module
// that cannot run is a 422 naming `stateful.source` at create time, not a crash-looping engine.
import { ForbiddenException, UnprocessableEntityException } from '@nestjs/common';
import * as esbuild from 'esbuild';
import { compileModuleCode, specErrorAt, type QuerySpec, type SpecError } from '@sluice/query-plan';
import type { AppConfig } from '../config/app-config';
import { roleAllows, type RoleName } from '../auth/roles';

export async function checkStatefulModule(
  spec: QuerySpec,
  specText: string,
  role: RoleName,
  policy: AppConfig['SLUICE_STATEFUL_MODULES'],
): Promise<void> {
  const fn = spec.stateful;
  if (!fn) return;
  if (policy === 'off')
    throw new ForbiddenException({
      code: 'STATEFUL_MODULES_OFF',
      message:
        'stateful: this control plane runs no stateful functions (SLUICE_STATEFUL_MODULES=off): they are code executed on the engines',
    });
  if (!roleAllows(role, policy))
    throw new ForbiddenException({
      code: 'FORBIDDEN',
      message: `stateful: deploying a stateful function (code run by the engines) needs the ${policy} role (SLUICE_STATEFUL_MODULES=${policy})`,
    });
  if (fn.source === undefined)
    throw invalidSpec([
      specErrorAt(
        specText,
        ['stateful', 'module'],
        `the control plane ships a stateful function to its engines only as code in the spec: put the contents of ${fn.module} in stateful.source (the sluice CLI does it for a module next to the spec file)`,
      ),
    ]);
  const compiled = await compileModuleCode(esbuild, fn.source, fn.module, fn.export);
  if (!compiled.ok)
    throw invalidSpec(
      compiled.errors.map((e) => specErrorAt(specText, ['stateful', 'source'], `${fn.module}: ${e}`)),
    );
}

function invalidSpec(errors: SpecError[]): UnprocessableEntityException {
  return new UnprocessableEntityException({
    code: 'INVALID_SPEC',
    message: errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`).join('; '),
    errors,
  });
}
