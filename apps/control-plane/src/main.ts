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
  await app.listen(config.SLUICE_API_PORT, config.SLUICE_API_HOST);
  process.stdout.write(
    JSON.stringify({ level: 30, msg: 'control plane listening', url: `http://${config.SLUICE_API_HOST}:${config.SLUICE_API_PORT}` }) + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`sluice control-plane: failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
