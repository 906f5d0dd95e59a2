// A receiver URL must be http(s) and, when SLUICE_ALERT_RECEIVER_HOSTS is set, name an allowed
// host; checked when the receiver is created and again before every request (the setting may
// have changed since). Redirects are never followed (delivery uses redirect: 'manual'), so an
// allowed host cannot bounce a request to an internal one.

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export function parseAllowList(raw: string | undefined): string[] | null {
  if (!raw) return null;
  return raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

export function checkReceiverUrl(raw: string, allowList: readonly string[] | null): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'url: not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `url: must be http:// or https://, got ${url.protocol}//` };
  }
  if (url.username || url.password) return { ok: false, reason: 'url: must not carry credentials' };
  if (allowList) {
    const host = url.hostname.toLowerCase();
    const allowed = allowList.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) : host === h));
    if (!allowed) return { ok: false, reason: `url: host ${host} is not in SLUICE_ALERT_RECEIVER_HOSTS` };
  }
  return { ok: true, url };
}

/** The URL as shown to viewers: scheme and host only (a Slack webhook's path is its secret). */
export function displayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '…';
  }
}
