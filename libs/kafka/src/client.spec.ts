import { describe, expect, it } from 'vitest';
import { parseBrokers } from './client';

describe('parseBrokers', () => {
  it('splits and trims a comma list', () => {
    expect(parseBrokers(' 127.0.0.1:59092, localhost:9093 ')).toEqual(['127.0.0.1:59092', 'localhost:9093']);
  });
  it('rejects an address without a port, naming it', () => {
    expect(() => parseBrokers('127.0.0.1')).toThrow('invalid broker address "127.0.0.1"');
  });
  it('rejects an empty list', () => {
    expect(() => parseBrokers(' , ')).toThrow('no broker address given');
  });
});
