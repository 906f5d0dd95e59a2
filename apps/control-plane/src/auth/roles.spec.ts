import { describe, expect, it } from 'vitest';
import { isRole, roleAllows } from './roles';
import { hashToken, newTokenSecret, tokenPrefix } from './token-secret';

describe('roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('operator', 'admin')).toBe(false);
  });
  it('recognises role names', () => {
    expect(isRole('viewer')).toBe(true);
    expect(isRole('root')).toBe(false);
  });
});

describe('token secrets', () => {
  it('are random, prefixed, and hashed deterministically', () => {
    const a = newTokenSecret();
    const b = newTokenSecret();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^slc_[A-Za-z0-9_-]{43}$/);
    expect(hashToken(a)).toBe(hashToken(a));
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenPrefix(a)).toBe(a.slice(0, 10));
  });
});
