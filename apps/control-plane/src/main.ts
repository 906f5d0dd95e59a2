// Control-plane entry point: validate config (exit 1 naming the variable), start, drain on SIGTERM.
import { ConfigError, loadAppConfig, type AppConfig } from './config/app-config';
import { createApp } from './app.factory';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadAppConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`sluice control-plane: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const app = await createApp(config);
  // Own the signal handling (rather than Nest's enableShutdownHooks, which re-raises the signal)
  // so a drained shutdown exits 0, as Kubernetes and process supervisors expect.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(JSON.stringify({ level: 30, msg: 'shutting down', signal }) + '\n');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await app.listen(config.SLUICE_API_PORT, config.SLUICE_API_HOST);
  process.stdout.write(
    JSON.stringify({
      level: 30,
      msg: 'control plane listening',
      url: `http://${config.SLUICE_API_HOST}:${config.SLUICE_API_PORT}`,
    }) + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(
    `sluice control-plane: failed to start: ${e instanceof Error ? e.stack : String(e)}\n`,
  );
  process.exit(1);
});
