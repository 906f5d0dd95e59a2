// `sluice completion bash|zsh`: prints the completion script generated from the command tree.
import { Argument, type Command } from 'commander';
import { bashCompletion, zshCompletion } from '../completion';
import type { Io } from '../session';

export function registerCompletion(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(sluice completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') =>
      io.stdout(shell === 'bash' ? bashCompletion(program) : zshCompletion(program)),
    );
}
