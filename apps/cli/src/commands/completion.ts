import type { Command } from 'commander';
import { bashCompletion, zshCompletion } from '../completion';
import type { Io } from '../session';

export function registerCompletion(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(sluice completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell === 'bash') return io.stdout(bashCompletion(program));
      if (shell === 'zsh') return io.stdout(zshCompletion(program));
      program.error(`completion: unknown shell "${shell}" (bash or zsh)`, { exitCode: 2 });
    });
}
