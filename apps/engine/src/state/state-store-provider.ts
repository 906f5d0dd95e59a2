// Where a query's working state lives (Spark's StateStoreProvider), chosen per query by the
// spec's `options.stateStore`: `memory` (a Map per task and operator) or `lmdb` (an LMDB
// environment per task and operator in the instance's local working folder). Both write the same
// checkpoint files (state-files.ts), so a query can switch provider across an upgrade: the next
// start restores from the checkpoint into the new provider.
import path from 'node:path';
import type { CheckpointStore } from '../checkpoint/checkpoint-store';
import {
  DEFAULT_STATE_OPTIONS,
  InMemoryStateStore,
  type StateStore,
  type StateStoreOptions,
} from './state-store';

export type StateStoreKind = 'memory' | 'lmdb';

export interface StateStoreProvider {
  readonly kind: StateStoreKind;
  /** The store of (task, operator) restored to committed `version` (-1 = empty). */
  getStore(task: string, operator: string, version: number): Promise<StateStore>;
  /** Closes every store still open (their maintenance waited for). */
  close(): Promise<void>;
}

export class InMemoryStateStoreProvider implements StateStoreProvider {
  readonly kind = 'memory' as const;

  constructor(
    private readonly checkpoint: CheckpointStore,
    private readonly opts: StateStoreOptions = DEFAULT_STATE_OPTIONS,
  ) {}

  getStore(task: string, operator: string, version: number): Promise<StateStore> {
    return InMemoryStateStore.load(this.checkpoint, task, operator, version, this.opts);
  }

  async close(): Promise<void> {
    // Nothing outside the heap.
  }
}

/**
 * The provider of `kind`. `workDir` is the instance's local working folder (LMDB files go to
 * `<workDir>/state/`); lmdb is loaded only when asked for, so a memory-only engine never loads
 * the native binding.
 */
export async function openStateStoreProvider(
  kind: StateStoreKind,
  checkpoint: CheckpointStore,
  workDir: string,
  opts: StateStoreOptions = DEFAULT_STATE_OPTIONS,
): Promise<StateStoreProvider> {
  if (kind === 'memory') return new InMemoryStateStoreProvider(checkpoint, opts);
  const { LmdbStateStoreProvider } = await import('./lmdb-state-store');
  return new LmdbStateStoreProvider(checkpoint, path.join(workDir, 'state'), opts);
}
