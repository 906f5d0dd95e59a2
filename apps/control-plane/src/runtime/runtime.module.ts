// Chooses the runtime driver from config: local processes, or one StatefulSet per query applied
// through the Kubernetes API (kubernetes.runtime.ts).
import fs from 'node:fs';
import path from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EngineCommand, engineBundleDir } from './engine-bundle';
import { KubernetesRuntime } from './kubernetes.runtime';
import { LocalProcessRuntime } from './local-process.runtime';
import { RUNTIME_DRIVER, type RuntimeDriver } from './runtime-driver';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Engines run from the esbuild bundle of the current sources, tsx when it cannot be built. */
function bundledEngineCommand(): () => Promise<string[]> {
  const logger = new Logger('EngineBundle');
  const command = new EngineCommand(REPO_ROOT, engineBundleDir(REPO_ROOT), (level, msg) =>
    level === 'warn' ? logger.warn(msg) : logger.log(msg),
  );
  return () => command.resolve();
}

export async function createRuntimeDriver(config: AppConfig): Promise<RuntimeDriver> {
  if (config.SLUICE_RUNTIME === 'kubernetes') {
    // Loaded on demand: @kubernetes/client-node is large and local runs never need it.
    const { ClientNodeKubernetesApi } = await import('./kubernetes-api');
    const cpu = config.SLUICE_K8S_ENGINE_CPU;
    const memory = config.SLUICE_K8S_ENGINE_MEMORY;
    return new KubernetesRuntime(new ClientNodeKubernetesApi(), {
      namespace: config.SLUICE_K8S_NAMESPACE,
      image: config.SLUICE_ENGINE_IMAGE,
      databaseSecretName: config.SLUICE_K8S_DATABASE_SECRET,
      resources: cpu || memory ? { cpu, memory } : undefined,
    });
  }
  const fileSinkRoot = path.resolve(
    config.SLUICE_FILE_SINK_ROOT ?? path.join(config.SLUICE_HOME, 'file-sinks'),
  );
  // Engines resolve sink paths against its real path, so it must exist before the first one starts.
  fs.mkdirSync(fileSinkRoot, { recursive: true });
  return new LocalProcessRuntime({
    home: path.resolve(config.SLUICE_HOME),
    engineCommand: config.SLUICE_ENGINE_COMMAND
      ? (JSON.parse(config.SLUICE_ENGINE_COMMAND) as string[])
      : bundledEngineCommand(),
    cwd: REPO_ROOT,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1', SLUICE_FILE_SINK_ROOT: fileSinkRoot },
  });
}

@Global()
@Module({
  providers: [{ provide: RUNTIME_DRIVER, inject: [APP_CONFIG], useFactory: createRuntimeDriver }],
  exports: [RUNTIME_DRIVER],
})
export class RuntimeModule {}
