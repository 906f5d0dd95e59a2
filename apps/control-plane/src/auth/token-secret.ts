// API token secrets: random, shown once, stored only as a SHA-256 hash. SHA-256 (not a slow KDF)
// is right here because the secret has 256 bits of entropy; there is nothing to brute-force.
import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'slc_';

export function newTokenSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A short, non-secret label to recognise a token in lists (never enough to use it). */
export function tokenPrefix(secret: string): string {
  return secret.slice(0, PREFIX.length + 6);
}
