// The `sluice` command tree. Built by a function (not at import time) so the tests and the
// completion generator see exactly the tree users run.
import { Command, Option } from 'commander';
import { registerAdmin } from './commands/admin';
import { registerAlerts } from './commands/alerts';
import { registerCompletion } from './commands/completion';
import { registerLogin } from './commands/login';
import { registerObserve } from './commands/observe';
import { registerQueries } from './commands/queries';
import { EXIT_CODES_HELP } from './exit-codes';
import { OUTPUT_FORMATS } from './output/output-format';
import type { Io } from './session';

export function buildProgram(io: Io): Command {
  const program = new Command('sluice')
    .description('Command line of the Sluice control plane: deploy, watch and change streaming queries')
    .version(version(), '-V, --version')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('--context <name>', 'use this stored context instead of the current one')
    .addHelpText(
      'after',
      `\nConfig: $XDG_CONFIG_HOME/sluice/config.yaml (mode 600); SLUICE_URL and SLUICE_TOKEN override it.\n${EXIT_CODES_HELP}\n`,
    )
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerLogin(program, io);
  registerQueries(program, io);
  registerObserve(program, io);
  registerAlerts(program, io);
  registerAdmin(program, io);
  registerCompletion(program, io);
  // Every subcommand reports usage errors through main's handler (exit 2), with the same output.
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json, read once
  return (require('../package.json') as { version: string }).version;
}
