import { describe, expect, it } from 'vitest';
import { redactQuery, redactUrl } from './redact-url';

describe('redactUrl', () => {
  it('hides credential-like query parameters and keeps the rest', () => {
    expect(redactUrl('/api/v1/queries?access_token=slc_abc&limit=5')).toBe(
      '/api/v1/queries?access_token=[redacted]&limit=5',
    );
    expect(redactUrl('/x?Token=a&PASSWORD=b&api%5Fkey=c')).toBe(
      '/x?Token=[redacted]&PASSWORD=[redacted]&api%5Fkey=[redacted]',
    );
    expect(redactUrl('/x?target=token/1&q=%E0%A4%A')).toBe('/x?target=token/1&q=%E0%A4%A');
    expect(redactUrl('/healthz')).toBe('/healthz');
  });

  it('hides the same names in the parsed query object', () => {
    expect(redactQuery({ access_token: 'slc_x', limit: '3' })).toEqual({
      access_token: '[redacted]',
      limit: '3',
    });
    expect(redactQuery(undefined)).toBeUndefined();
  });
});
