// Chooses the checkpoint backend from the --checkpoint URI:
//   file:///abs/path or a plain path      → local directory
//   postgresql://… or postgres://…         → PostgreSQL (rows namespaced by query id)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointStore } from './checkpoint-store';
import { FileBlobStore } from './file-blob-store';
import type { PoolWarn } from '../pg/create-pool';
import { PgBlobStore } from './pg-blob-store';

export type CheckpointLocation =
  { kind: 'file'; dir: string } | { kind: 'postgres'; connectionString: string };

export function parseCheckpointUri(uri: string): CheckpointLocation {
  if (/^postgres(ql)?:\/\//i.test(uri)) return { kind: 'postgres', connectionString: uri };
  if (/^file:/i.test(uri)) return { kind: 'file', dir: fileURLToPath(uri) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri))
    throw new Error(`unsupported checkpoint URI "${uri}" (use a path, file:// or postgresql://)`);
  if (uri.trim() === '') throw new Error('empty checkpoint location');
  return { kind: 'file', dir: path.resolve(uri) };
}

export async function openCheckpointStore(
  uri: string,
  queryId: string,
  warn?: PoolWarn,
): Promise<CheckpointStore> {
  const location = parseCheckpointUri(uri);
  if (location.kind === 'file') return new CheckpointStore(new FileBlobStore(location.dir), location.dir);
  const blobs = await PgBlobStore.open(location.connectionString, queryId, warn);
  return new CheckpointStore(blobs, blobs.describe(''));
}
