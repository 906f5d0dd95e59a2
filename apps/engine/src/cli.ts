// `npm run -s engine -- <command>`: the streaming engine worker's command line.
const USAGE = `usage: engine <command>
  validate --spec FILE                          compile a query spec and print its plan
  run --spec FILE --checkpoint URI [--instance-id ID]   run a query`;

function main(argv: string[]): number {
  const [command] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  process.stderr.write(`engine: unknown command "${command}"\n${USAGE}\n`);
  return 2;
}

process.exit(main(process.argv.slice(2)));
