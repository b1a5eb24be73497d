import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Readable, type Writable } from 'node:stream';
import tls from 'node:tls';
import { TsbuildError } from '../core/errors.ts';
import { redactUrl } from './redact.ts';
import { networkError } from './errors.ts';
import { getInto } from './rawGet.ts';
import { trustDeferredCaCerts } from '../sys/tlsTrust.ts';

/** HttpRequest is one request; body streams are sent as they are (the caller reopens them on retry). */
export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  signal?: AbortSignal;
  /** Socket idle timeout in ms (default 60 s): a silent registry becomes a temporary ETIMEDOUT. */
  timeoutMs?: number;
  /**
   * For a GET: write a 200 body here instead of handing it out as the response's
   * body (getInto: a connection of its own, read without per-read allocations, for
   * large blobs). The response's done settles when the body is in; into is not ended.
   */
  into?: Writable;
}

/** HttpResponse is a response whose body has not been read yet: read or drain it. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
  /** The URL that answered (after redirects). */
  url: URL;
  /** With HttpRequest.into: settles once the body has been read (a 200 body written to into). */
  done?: Promise<void>;
}

const MAX_REDIRECTS = 5;

/** Agents keeps one keep-alive agent per scheme for a client. */
export class Agents {
  readonly http = new http.Agent({ keepAlive: true, maxSockets: 16 });
  readonly https = new https.Agent({ keepAlive: true, maxSockets: 16 });
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/**
 * send performs one HTTP request with node:http(s). It follows redirects for
 * GET/HEAD only, dropping Authorization when the redirect leaves the origin
 * (blob downloads are often redirected to storage with a signed URL).
 * Failures without an answer become RegistryError NETWORK (redacted URL).
 */
export async function send(req: HttpRequest, agents: Agents): Promise<HttpResponse> {
  let url = req.url;
  let headers = { ...req.headers };
  for (let hop = 0; ; hop++) {
    const res = await sendOnce({ ...req, url, headers }, agents);
    const loc = res.headers.location;
    if (res.status >= 300 && res.status < 400 && loc && (req.method === 'GET' || req.method === 'HEAD') && hop < MAX_REDIRECTS) {
      res.body.resume();
      const next = new URL(loc, url);
      if (next.origin !== url.origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      url = next;
      continue;
    }
    return res;
  }
}

function sendOnce(req: HttpRequest, agents: Agents): Promise<HttpResponse> {
  if (req.into && req.method === 'GET') return sendInto(req, req.into);
  if (req.url.protocol === 'https:') trustDeferredCaCerts(tls);
  return new Promise<HttpResponse>((resolve, reject) => {
    const mod = req.url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { ...req.headers };
    if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) headers['Content-Length'] = String(Buffer.byteLength(req.body));
    else if (req.body === undefined && req.method !== 'GET' && req.method !== 'HEAD') headers['Content-Length'] ??= '0';
    const r = mod.request(req.url, {
      method: req.method,
      headers,
      agent: req.url.protocol === 'https:' ? agents.https : agents.http,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    r.on('error', (e) => reject(req.signal?.aborted ? req.signal.reason : networkError(req.method, req.url, e)));
    r.setTimeout(req.timeoutMs ?? 60_000, () => r.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
    r.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url }));
    if (req.body instanceof Readable) {
      req.body.on('error', (e) => r.destroy(e));
      req.body.pipe(r);
    } else {
      r.end(req.body);
    }
  });
}

/** sendInto is sendOnce through getInto, its failures (before or after the head) made RegistryErrors as sendOnce's are. */
async function sendInto(req: HttpRequest, into: Writable): Promise<HttpResponse> {
  const wrap = (e: unknown) => (req.signal?.aborted ? req.signal.reason : e instanceof TsbuildError ? e : networkError(req.method, req.url, e));
  try {
    const res = await getInto(req, into);
    const done = res.done.catch((e: unknown) => { throw wrap(e); });
    done.catch(() => undefined);
    return { ...res, done };
  } catch (e) {
    throw wrap(e);
  }
}

/** readText reads a response body up to limit bytes (more is an error: manifests and errors are small). */
export async function readText(res: HttpResponse, limit = 4 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      res.body.destroy();
      throw new TsbuildError('REGISTRY', `${redactUrl(res.url)}: response body larger than ${limit} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** drain discards a response body so the connection can be reused. */
export async function drain(res: HttpResponse): Promise<void> {
  if (res.body.readableEnded) return;
  res.body.resume();
  await new Promise<void>((resolve) => { res.body.on('end', resolve); res.body.on('close', resolve); res.body.on('error', () => resolve()); });
}

/** header returns a single header value (first if repeated). */
export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
