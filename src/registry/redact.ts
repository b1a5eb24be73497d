/** Query parameters that carry no secret and help a reader of an error message. */
const SAFE_QUERY = new Set(['digest', 'mount', 'from', 'n', 'last', 'scope', 'service']);

/**
 * redactUrl renders a URL safe for errors and logs: userinfo is dropped and every
 * query value except a few known-harmless ones (digest, mount, from, scope, ...)
 * becomes REDACTED (upload `_state` tokens, signed storage URLs, access tokens).
 */
export function redactUrl(u: URL | string): string {
  let url: URL;
  try {
    url = new URL(String(u));
  } catch {
    return '<invalid URL>';
  }
  url.username = '';
  url.password = '';
  for (const k of [...url.searchParams.keys()]) {
    if (!SAFE_QUERY.has(k)) url.searchParams.set(k, 'REDACTED');
  }
  return url.toString();
}

/** redactHeaders copies headers with Authorization-like values replaced, for debug output. */
export function redactHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    out[k] = /^(authorization|proxy-authorization|cookie)$/i.test(k) ? `${v.split(' ')[0]} REDACTED` : v;
  }
  return out;
}
