// Chooses the runtime driver from config. Only the local driver can run instances today; the
// Kubernetes driver renders objects (see kubernetes-objects.ts) but does not apply them yet.
import path from 'node:path';
import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LocalProcessRuntime } from './local-process.runtime';
import { RUNTIME_DRIVER } from './runtime-driver';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

export function defaultEngineCommand(): string[] {
  // `--import tsx` rather than the tsx CLI: the CLI is a wrapper process, so the pid we record
  // (and a hard kill) would miss the engine itself. Resolved from `cwd` = the repository root.
  return [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'apps/engine/src/cli.ts')];
}

@Global()
@Module({
  providers: [
    {
      provide: RUNTIME_DRIVER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (config.SLUICE_RUNTIME === 'kubernetes') {
          throw new Error('SLUICE_RUNTIME=kubernetes: applying objects to a cluster is not implemented yet; use local');
        }
        return new LocalProcessRuntime({
          home: path.resolve(config.SLUICE_HOME),
          engineCommand: config.SLUICE_ENGINE_COMMAND ? (JSON.parse(config.SLUICE_ENGINE_COMMAND) as string[]) : defaultEngineCommand(),
          cwd: REPO_ROOT,
          env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
        });
      },
    },
  ],
  exports: [RUNTIME_DRIVER],
})
export class RuntimeModule {}
