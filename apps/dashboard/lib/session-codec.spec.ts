import { describe, expect, it } from 'vitest';
import { cookieOptions, decodeSession, encodeSession, roleAtLeast, roleFromProbe } from './session-codec';

describe('session cookie', () => {
  it('round-trips a session and refuses tampered or oversized values', () => {
    const s = { token: 'slc_abc', role: 'operator' as const, name: 'ops' };
    expect(decodeSession(encodeSession(s))).toEqual(s);
    expect(decodeSession(Buffer.from('{"t":"x","r":"root","n":"y"}').toString('base64url'))).toBeNull();
    expect(decodeSession('not base64 json')).toBeNull();
    expect(decodeSession('a'.repeat(5000))).toBeNull();
    expect(decodeSession(undefined)).toBeNull();
  });

  it('is httpOnly and SameSite=Strict', () => {
    expect(cookieOptions(false, 60)).toMatchObject({ httpOnly: true, sameSite: 'strict', secure: false });
    expect(cookieOptions(true, 60).secure).toBe(true);
  });

  it('orders roles', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
  });
});

describe('role probe', () => {
  it('reads the role from the answer to GET /api/v1/tokens', () => {
    expect(roleFromProbe(200, '[]')?.role).toBe('admin');
    expect(
      roleFromProbe(403, JSON.stringify({ message: 'this action needs role admin; token "bob" has viewer' })),
    ).toEqual({ role: 'viewer', name: 'bob' });
    expect(roleFromProbe(403, JSON.stringify({ message: 'token "ops" has operator' }))?.role).toBe(
      'operator',
    );
    expect(roleFromProbe(401, '{}')).toBeNull();
    // An unexpected 403 gives the least privilege.
    expect(roleFromProbe(403, '{"message":"?"}')?.role).toBe('viewer');
  });
});
