import { describe, expect, it } from 'vitest';
import { csrfRejection } from './csrf';

const req = (headers: Record<string, string>) =>
  new Request('http://127.0.0.1:4401/api/cp/queries', { method: 'POST', headers });

describe('csrfRejection', () => {
  const good = { host: '127.0.0.1:4401', origin: 'http://127.0.0.1:4401', 'x-sluice-csrf': '1' };

  it('lets a same-origin request with the header through', () => {
    expect(csrfRejection(req(good))).toBeNull();
    expect(csrfRejection(req({ ...good, 'sec-fetch-site': 'same-origin' }))).toBeNull();
  });

  it('refuses a missing header, a foreign or missing Origin, and cross-site fetches', () => {
    expect(csrfRejection(req({ host: good.host, origin: good.origin }))).toMatch(/x-sluice-csrf/);
    expect(csrfRejection(req({ ...good, origin: 'http://evil.example' }))).toMatch(/not this dashboard/);
    expect(csrfRejection(req({ host: good.host, 'x-sluice-csrf': '1' }))).toMatch(/missing Origin/);
    expect(csrfRejection(req({ ...good, 'sec-fetch-site': 'cross-site' }))).toMatch(/cross-site/);
    expect(csrfRejection(req({ ...good, origin: 'null' }))).not.toBeNull();
  });
});
