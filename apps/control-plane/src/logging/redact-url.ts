// Request URLs are logged; some clients put credentials in the query string (`?access_token=`,
// as OAuth 2.0 bearer-token usage allows). Sluice never reads a token from a URL, but a client
// that sends one must not get it written to the logs.
const SECRET_PARAM =
  /^(access_token|token|api_key|apikey|key|secret|password|passwd|auth|authorization|signature|sig)$/i;

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judge the raw name
      }
      return eq >= 0 && SECRET_PARAM.test(name) ? `${rawName}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

/** The parsed query object, as Express logs it next to the URL, with the same names hidden. */
export function redactQuery(query: unknown): unknown {
  if (typeof query !== 'object' || query === null) return query;
  return Object.fromEntries(
    Object.entries(query).map(([k, v]) => [k, SECRET_PARAM.test(k) ? '[redacted]' : v]),
  );
}
