// VersionBuckets: the rows of the buckets a read sent replace the held ones, the others are kept,
// a bucket missing from a read is empty, and a read made against digests it does not hold throws
// and leaves nothing held (the next read sends everything).
import { describe, expect, it } from 'vitest';
import { VersionBuckets } from './version-buckets';

interface Row {
  id: string;
  v: number;
}
const sent = (bucket: number, digest: string, rows: Row[]) => ({
  bucket,
  digest,
  rows: JSON.stringify(rows),
});
const kept = (bucket: number, digest: string) => ({ bucket, digest, rows: null });

describe('VersionBuckets', () => {
  it('holds nothing at first: the known digests are empty and every bucket read is taken', () => {
    const b = new VersionBuckets<Row>();
    expect(b.known()).toBe('[]');
    const rows = b.apply([sent(0, 'a', [{ id: 'x', v: 1 }]), sent(5, 'b', [{ id: 'y', v: 1 }])]);
    expect(rows).toEqual([
      { id: 'x', v: 1 },
      { id: 'y', v: 1 },
    ]);
    expect(JSON.parse(b.known())).toEqual([
      [0, 'a'],
      [5, 'b'],
    ]);
    expect(b.lastRead).toBe(2);
  });

  it('keeps the rows of buckets not sent, replaces those sent, drops those gone', () => {
    const b = new VersionBuckets<Row>();
    b.apply([
      sent(0, 'a', [{ id: 'x', v: 1 }]),
      sent(5, 'b', [{ id: 'y', v: 1 }]),
      sent(7, 'c', [{ id: 'z', v: 1 }]),
    ]);
    const rows = b.apply([kept(0, 'a'), sent(5, 'b2', [{ id: 'y', v: 2 }])]);
    expect(rows).toEqual([
      { id: 'x', v: 1 },
      { id: 'y', v: 2 },
    ]);
    expect(b.lastRead).toBe(1);
    expect(JSON.parse(b.known())).toEqual([
      [0, 'a'],
      [5, 'b2'],
    ]);
  });

  it('refuses a bucket not sent whose digest it does not hold, and holds nothing after', () => {
    const b = new VersionBuckets<Row>();
    b.apply([sent(0, 'a', [{ id: 'x', v: 1 }])]);
    expect(() => b.apply([kept(0, 'other')])).toThrow(/bucket 0/);
    expect(b.known()).toBe('[]');
    expect(() => new VersionBuckets<Row>().apply([kept(3, 'a')])).toThrow(/bucket 3/);
  });

  it('reset: the next read must send every bucket', () => {
    const b = new VersionBuckets<Row>();
    b.apply([sent(0, 'a', [{ id: 'x', v: 1 }])]);
    b.reset();
    expect(b.known()).toBe('[]');
  });
});
