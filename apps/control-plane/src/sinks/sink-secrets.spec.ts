import { describe, expect, it } from 'vitest';
import { describeTarget, postgresTarget, sameDatabase } from '../config/postgres-url';
import { SecretBox, secretsKeyBytes } from '../secrets/secret-box';

describe('postgres URLs of sink connections', () => {
  it('see through spellings of the same database', () => {
    const cp = 'postgresql://sluice@127.0.0.1:55432/sluice';
    expect(sameDatabase(cp, 'postgres://other:pw@localhost:55432/sluice')).toBe(true);
    expect(sameDatabase(cp, 'postgresql://x@[::1]:55432/sluice?sslmode=disable')).toBe(true);
    expect(sameDatabase(cp, 'postgresql://sluice@127.0.0.1:55432/sluice_sinks')).toBe(false);
    expect(sameDatabase(cp, 'postgresql://sluice@127.0.0.1:5432/sluice')).toBe(false);
    // libpq's query parameters win over the authority part.
    expect(
      sameDatabase(cp, 'postgresql://u@db.example:1/other?host=127.0.0.1&port=55432&dbname=sluice'),
    ).toBe(true);
    // No database in the path: libpq uses the user name.
    expect(postgresTarget('postgresql://sluice@127.0.0.1:55432')?.database).toBe('sluice');
    expect(sameDatabase(cp, 'not a url')).toBe(false);
  });

  it('are shown without the password', () => {
    expect(describeTarget('postgresql://writer:s3cret@db.internal:6432/warehouse')).toBe(
      'writer@db.internal:6432/warehouse',
    );
    expect(describeTarget('mysql://x')).toBe('(invalid URL)');
  });
});

describe('SecretBox', () => {
  const key = secretsKeyBytes('ab'.repeat(32))!;

  it('accepts 32-byte keys as hex or base64 only', () => {
    expect(key).toHaveLength(32);
    expect(secretsKeyBytes(Buffer.alloc(32, 7).toString('base64'))).toHaveLength(32);
    expect(secretsKeyBytes('ab'.repeat(16))).toBeUndefined();
    expect(secretsKeyBytes('not a key')).toBeUndefined();
  });

  it('round-trips, hides the plaintext and binds the value to its context', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('postgresql://w:pw@h/db', 'warehouse');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('pw@');
    expect(box.open(sealed, 'warehouse')).toBe('postgresql://w:pw@h/db');
    expect(() => box.open(sealed, 'other-row')).toThrow();
    expect(() => new SecretBox(secretsKeyBytes('cd'.repeat(32))!).open(sealed, 'warehouse')).toThrow();
    // Flip one bit of the ciphertext itself (editing base64 text can land on padding bits that
    // decode to the same bytes, so decode, flip, encode).
    const [version, iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = flipped[0]! ^ 0x01;
    const tampered = [version, iv, tag, flipped.toString('base64url')].join('.');
    expect(() => box.open(tampered, 'warehouse')).toThrow();
  });
});
