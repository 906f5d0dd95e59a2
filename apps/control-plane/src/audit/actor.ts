// Who acted is decided by authentication (auth/actor.ts); the audit log only records it.
export type { Actor } from '../auth/actor';
