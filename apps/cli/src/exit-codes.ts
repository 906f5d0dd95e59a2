// The exit codes of `sluice`, documented in ARCHITECTURE.md ("CLI") and `sluice --help`. Scripts
// branch on them, so each names a kind of outcome, never a particular command.
export const EXIT = {
  OK: 0,
  /** Anything that went wrong: bad spec, refused token, failed operation, unreachable server. */
  ERROR: 1,
  /** The command line itself: unknown command or option, missing argument, bad value. */
  USAGE: 2,
  /** The control plane refused on purpose (409): incompatible upgrade, another operation active. */
  REFUSED: 3,
  /** The query, version, operation or token named does not exist (404). */
  NOT_FOUND: 4,
  /** Ctrl-C while waiting for an operation (128 + SIGINT): the operation itself goes on. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  error (bad spec, refused token, failed operation, server unreachable)
  2  usage (unknown command or option, missing or bad argument)
  3  refused by the control plane (409: incompatible upgrade, another operation active)
  4  not found (query, version, operation, token)
  130  Ctrl-C while waiting for an operation (the operation goes on)`;

/** An error that ends the command with `exitCode`; its message is printed as is. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.ERROR,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.USAGE);
