// A token as the API shows it: never the hash or the secret.
import type { StoredToken } from '../auth/token.repository';

export function publicView(t: StoredToken) {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    origin: t.origin,
  };
}
