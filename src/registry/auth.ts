import { RegistryError, errorFromBody } from './errors.ts';
import { send, readText, drain, header, type Agents, type HttpResponse } from './http.ts';
import type { Credential } from './credentials.ts';

/** Challenge is a parsed WWW-Authenticate header (first challenge only). */
export interface Challenge {
  scheme: 'none' | 'basic' | 'bearer';
  params: Record<string, string>;
}

/**
 * parseChallenge reads `Bearer realm="...",service="...",scope="a:b:pull,push"`.
 * Quoted values may hold commas; scheme names are case-insensitive.
 */
export function parseChallenge(h: string | undefined): Challenge {
  if (!h) return { scheme: 'none', params: {} };
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(h);
  if (!m) return { scheme: 'none', params: {} };
  const scheme = m[1]!.toLowerCase();
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return { scheme: scheme === 'bearer' ? 'bearer' : scheme === 'basic' ? 'basic' : 'none', params };
}

/** Scope strings as the token spec writes them: `repository:NAME:ACTIONS`. */
export function repoScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * Authenticator authorizes requests to one registry. It pings /v2/ once to learn
 * the scheme; for bearer it fetches a token per set of scopes from the challenge's
 * realm and caches it until shortly before it expires. Tokens and passwords are only
 * ever put in Authorization headers, never in errors.
 */
export class Authenticator {
  private challenge: Promise<Challenge> | undefined;
  /** The scheme in force once known (sync copy of the resolved challenge). */
  private scheme: Challenge['scheme'] | undefined;
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  /** Number of token requests sent (for tests and diagnostics). */
  tokenRequests = 0;

  constructor(
    private readonly registry: string,
    private readonly base: URL,
    private readonly cred: Credential | undefined,
    private readonly agents: Agents,
    private readonly userAgent: string,
  ) {}

  /** hint tells the user what to do about an UNAUTHORIZED answer from this registry. */
  hint(): string {
    return this.cred
      ? `check the credentials stored for ${this.registry} (tsbuild login ${this.registry})`
      : `log in first: tsbuild login ${this.registry}`;
  }

  private ping(signal?: AbortSignal): Promise<Challenge> {
    this.challenge ??= (async () => {
      const url = new URL('/v2/', this.base);
      const res = await send({ method: 'GET', url, headers: { 'User-Agent': this.userAgent }, ...(signal ? { signal } : {}) }, this.agents);
      await drain(res);
      if (res.status === 200) return { scheme: 'none', params: {} } as Challenge;
      if (res.status === 401) return parseChallenge(header(res, 'www-authenticate'));
      throw errorFromBody('GET', url, res.status, '');
    })();
    this.challenge.then((c) => (this.scheme ??= c.scheme), () => (this.challenge = undefined));
    return this.challenge;
  }

  /** authorization returns the Authorization header value for a request needing scopes, if any. */
  async authorization(scopes: readonly string[], signal?: AbortSignal): Promise<string | undefined> {
    const ch = await this.ping(signal);
    if (ch.scheme === 'basic') return this.basic();
    if (ch.scheme === 'bearer') return `Bearer ${(await this.token(ch, scopes, signal)).token}`;
    return undefined;
  }

  /**
   * unauthorized handles a 401: it learns the new challenge, forgets the token for
   * these scopes and returns the scopes to retry with, or undefined if a retry cannot help.
   */
  unauthorized(res: HttpResponse, scopes: readonly string[]): string[] | undefined {
    const ch = parseChallenge(header(res, 'www-authenticate'));
    if (ch.scheme === 'none') return undefined;
    const prev = this.scheme;
    this.scheme = ch.scheme;
    this.challenge = Promise.resolve(ch);
    // Basic: a retry helps only if credentials exist and were not sent yet.
    if (ch.scheme === 'basic') return this.cred && 'username' in this.cred && prev !== 'basic' ? [...scopes] : undefined;
    const more = (ch.params.scope ?? '').split(' ').filter(Boolean);
    const all = [...new Set([...scopes, ...more])];
    this.tokens.delete(key(all));
    return all;
  }

  private basic(): string | undefined {
    if (!this.cred || !('username' in this.cred)) return undefined;
    return `Basic ${Buffer.from(`${this.cred.username}:${this.cred.password}`).toString('base64')}`;
  }

  private token(ch: Challenge, scopes: readonly string[], signal?: AbortSignal): Promise<CachedToken> {
    const k = key(scopes);
    const cached = this.tokens.get(k);
    if (cached) {
      return cached.then((t) => (t.expiresAt > Date.now() ? t : (this.tokens.delete(k), this.token(ch, scopes, signal))));
    }
    const p = this.fetchToken(ch, scopes, signal);
    this.tokens.set(k, p);
    p.catch(() => this.tokens.delete(k));
    return p;
  }

  private async fetchToken(ch: Challenge, scopes: readonly string[], signal?: AbortSignal): Promise<CachedToken> {
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError({ registryCode: 'UNAUTHORIZED', status: 401, method: 'GET', url: this.base, detail: 'bearer challenge without realm' });
    const url = new URL(realm);
    const headers: Record<string, string> = { 'User-Agent': this.userAgent };
    let body: string | undefined;
    let method = 'GET';
    if (this.cred && 'identityToken' in this.cred) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.cred.identityToken, client_id: 'tsbuild' });
      if (ch.params.service) form.set('service', ch.params.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = form.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      if (ch.params.service) url.searchParams.set('service', ch.params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const b = this.basic();
      if (b) headers.Authorization = b;
    }
    this.tokenRequests++;
    const res = await send({ method, url, headers, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) }, this.agents);
    const text = (await readText(res, 1 << 20)).toString('utf8');
    if (res.status !== 200) throw errorFromBody(method, url, res.status, text, res.status === 401 || res.status === 403 ? this.hint() : undefined);
    const j = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
    const token = j.token ?? j.access_token;
    if (!token) throw new RegistryError({ registryCode: 'UNAUTHORIZED', status: res.status, method, url, detail: 'token response has no token' });
    // The spec's default lifetime is 60 s; renew 10 s early so a token never expires mid-request.
    const ttl = Math.max(10, j.expires_in ?? 60) - 10;
    return { token, expiresAt: Date.now() + ttl * 1000 };
  }
}

function key(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}
