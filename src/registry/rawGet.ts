import net from 'node:net';
import { PassThrough, type Writable } from 'node:stream';
import tls from 'node:tls';
import { TsbuildError } from '../core/errors.ts';
import { trustDeferredCaCerts } from '../sys/tlsTrust.ts';
import type { HttpRequest, HttpResponse } from './http.ts';

/** READ_SIZE is the one buffer every socket read of a response lands in (and the size of each pooled body buffer). */
const READ_SIZE = 1 << 20;

/** POOL is how many body buffers may be on their way to the sink at once (reading pauses when all are). */
const POOL = 4;

/** HEAD_LIMIT bounds the status line and headers. */
const HEAD_LIMIT = 64 << 10;

/** ERROR_BODY_LIMIT is how much of a non-200 body is kept for the error message. */
const ERROR_BODY_LIMIT = 1 << 20;

/** RawResponse is an answer of getInto: done settles once the whole body was read (a 200 body written to the sink). */
export interface RawResponse extends HttpResponse {
  done: Promise<void>;
}

/**
 * getInto sends one GET on a connection of its own (Connection: close) and reads
 * the answer into one reused buffer (net/tls `onread`), where node:http allocates
 * a fresh buffer for every socket read and copies each body piece once more: for
 * a 270 MB blob on loopback that is ~8,000 allocations whose page faults and GC
 * were half of a pull's CPU time. A 200 body is copied into POOL pooled buffers
 * written to into (backpressure: reading pauses while all of them are in the sink;
 * into is not ended). Any other body is kept, up to 1 MiB, as the response's body
 * (error text, redirects). Resolves at the response head; a connection that ends
 * before the body does fails done with ECONNRESET (temporary).
 */
export function getInto(req: HttpRequest, into: Writable): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const url = req.url;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const secure = url.protocol === 'https:';
    if (secure) trustDeferredCaCerts(tls);
    const port = Number(url.port) || (secure ? 443 : 80);
    const request = requestHead(req);
    const body = new Body(into, () => socket.resume());
    let settle = (e?: Error) => { if (e) reject(e); };
    const done = new Promise<void>((res, rej) => {
      body.onEnd = (e) => (e ? rej(e) : res());
    });
    done.catch(() => undefined); // the caller awaits it only after a 200
    const onread = { buffer: Buffer.allocUnsafe(READ_SIZE), callback: (n: number, buf: Buffer) => body.read(buf.subarray(0, n)) };
    const connected = () => socket.write(request);
    const socket: net.Socket = secure
      // tls.connect takes onread as net.connect does (Node docs); @types/node lacks it.
      ? tls.connect({ host, port, ALPNProtocols: ['http/1.1'], onread, ...(net.isIP(host) ? {} : { servername: host }) } as tls.ConnectionOptions, connected)
      : net.connect({ host, port, onread }, connected);
    body.onHead = (status, headers) => {
      settle = () => undefined;
      resolve({ status, headers, body: body.readable, url, done });
    };
    const fail = (e: Error) => {
      settle(e);
      body.fail(e);
    };
    socket.setTimeout(req.timeoutMs ?? 60_000, () => socket.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
    socket.on('error', fail);
    socket.on('end', () => {
      const e = body.eof();
      if (e) fail(e);
      socket.destroy();
    });
    socket.on('close', () => fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    body.abort = (e) => socket.destroy(e);
    // A failing sink also emits 'error'; it is reported through done, never left unhandled.
    const intoError = (e: Error) => {
      socket.destroy(e);
      body.sinkFailed(e);
    };
    into.on('error', intoError);
    done.then(() => into.off('error', intoError), () => into.off('error', intoError));
    const signal = req.signal;
    if (signal) {
      const onAbort = () => socket.destroy(signal.reason as Error);
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        // One listener per download on a signal that lives as long as the command: removed with the connection.
        socket.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
  });
}

/** requestHead is the request line and headers; a value with CR or LF is refused (it would inject headers). */
function requestHead(req: HttpRequest): string {
  const lines = [`GET ${req.url.pathname}${req.url.search} HTTP/1.1`, `Host: ${req.url.host}`];
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new TsbuildError('INTERNAL', `GET: header ${k} contains a line break`);
    lines.push(`${k}: ${v}`);
  }
  lines.push('Connection: close', 'Accept-Encoding: identity', '', '');
  return lines.join('\r\n');
}

type Framing = { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

/**
 * Body parses one response from the socket's reads: the head, then the body as
 * framed (Content-Length, chunked, or until the connection ends). Views passed to
 * read are valid only during the call, so body bytes are copied out before it returns.
 */
class Body {
  onHead: (status: number, headers: Record<string, string>) => void = () => undefined;
  onEnd: (e?: Error) => void = () => undefined;
  abort: (e: Error) => void = () => undefined;
  readonly readable = new PassThrough();
  #head: Buffer[] = [];
  #headLen = 0;
  #status = 0;
  #framing: Framing | undefined;
  #chunk = new ChunkedDecoder();
  #ended = false;
  #settled = false;
  #kept = 0;
  #pool: Buffer[] = Array.from({ length: POOL }, () => Buffer.allocUnsafe(READ_SIZE));
  #cur: Buffer | undefined;
  #curLen = 0;
  #inSink = 0;
  #paused = false;

  constructor(private readonly into: Writable, private readonly resume: () => void) {
    // A failure also fails done, which the caller awaits; whoever reads the body still sees it.
    this.readable.on('error', () => undefined);
  }

  /** read takes one socket read; false pauses the socket (every pooled buffer is in the sink). */
  read(view: Buffer): boolean {
    try {
      if (this.#ended) return true;
      if (!this.#framing) view = this.#readHead(view);
      if (this.#framing && view.length) this.#readBody(view);
    } catch (e) {
      this.abort(e as Error);
      return false;
    }
    if (this.#pool.length === 0 && !this.#ended) {
      this.#paused = true;
      return false;
    }
    return true;
  }

  /** eof is the end of the connection: fine only when the body was framed by it, or complete. */
  eof(): Error | undefined {
    if (this.#ended) return undefined;
    if (this.#framing?.kind === 'close') {
      this.#finish();
      return undefined;
    }
    return Object.assign(new Error(this.#framing ? 'connection closed before the end of the body' : 'connection closed before a response'), { code: 'ECONNRESET' });
  }

  /** fail stops the body with a transport error; once the body is complete there is none (the close after it). */
  fail(e: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.readable.destroy(e);
    this.#settle(e);
  }

  /** sinkFailed fails done with the sink's error, even after the whole body was read (writes may still be pending). */
  sinkFailed(e: Error): void {
    this.#ended = true;
    this.#settle(e);
  }

  #settle(e?: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onEnd(e);
  }

  #readHead(view: Buffer): Buffer {
    const prev = this.#headLen;
    this.#head.push(Buffer.from(view.subarray(0, Math.min(view.length, HEAD_LIMIT + 4 - prev))));
    this.#headLen += view.length;
    const all = Buffer.concat(this.#head);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.#headLen > HEAD_LIMIT) throw Object.assign(new Error('response head larger than 64 KiB'), { code: 'EPROTO' });
      return Buffer.alloc(0);
    }
    const [statusLine, ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
    if (!m) throw Object.assign(new Error(`bad status line ${JSON.stringify(statusLine?.slice(0, 80))}`), { code: 'EPROTO' });
    this.#status = Number(m[1]);
    if (this.#status >= 100 && this.#status < 200) {
      // An interim answer (103 Early Hints, a stray 100 Continue): the real one follows, as node:http skips them too.
      this.#head = [];
      this.#headLen = 0;
      return this.#readHead(view.subarray(end + 4 - prev));
    }
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    this.#framing = framing(this.#status, headers);
    this.#head = [];
    this.onHead(this.#status, headers);
    if (this.#framing.kind === 'length' && this.#framing.left === 0) this.#finish();
    return view.subarray(end + 4 - prev);
  }

  #readBody(view: Buffer): void {
    const f = this.#framing!;
    if (f.kind === 'chunked') {
      this.#chunk.feed(view, (data) => this.#deliver(data));
      if (this.#chunk.done) this.#finish();
      return;
    }
    if (f.kind === 'length') {
      if (view.length > f.left) view = view.subarray(0, f.left);
      f.left -= view.length;
    }
    this.#deliver(view);
    if (f.kind === 'length' && f.left === 0) this.#finish();
  }

  #deliver(view: Buffer): void {
    if (this.#status !== 200) {
      const keep = view.subarray(0, Math.max(0, ERROR_BODY_LIMIT - this.#kept));
      this.#kept += keep.length;
      if (keep.length) this.readable.write(Buffer.from(keep));
      return;
    }
    while (view.length) {
      if (!this.#cur) {
        this.#cur = this.#pool.pop();
        this.#curLen = 0;
        if (!this.#cur) throw new TsbuildError('INTERNAL', 'GET: body buffer pool exhausted');
      }
      const n = view.copy(this.#cur, this.#curLen);
      this.#curLen += n;
      view = view.subarray(n);
      if (this.#curLen === this.#cur.length) this.#flush();
    }
  }

  #flush(): void {
    const buf = this.#cur;
    if (!buf) return;
    const len = this.#curLen;
    this.#cur = undefined;
    this.#inSink++;
    this.into.write(buf.subarray(0, len), (e) => {
      this.#inSink--;
      this.#pool.push(buf);
      // A sink that fails after the whole body was read still fails done.
      if (e) { this.abort(e); this.sinkFailed(e); return; }
      if (this.#ended && this.#inSink === 0) this.#settle();
      if (this.#paused) {
        this.#paused = false;
        this.resume();
      }
    });
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.readable.end();
    this.#flush();
    if (this.#inSink === 0) this.#settle();
  }
}

/** framing says how a response's body ends (RFC 9112 §6.3, for a GET). */
function framing(status: number, headers: Record<string, string>): Framing {
  if (status === 204 || status === 304) return { kind: 'length', left: 0 };
  if (/(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '')) return { kind: 'chunked' };
  const cl = headers['content-length'];
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) throw Object.assign(new Error(`bad Content-Length ${JSON.stringify(cl)}`), { code: 'EPROTO' });
    return { kind: 'length', left: Number(cl) };
  }
  return { kind: 'close' };
}

/** ChunkedDecoder undoes chunked transfer encoding across arbitrary read boundaries (extensions and trailers are skipped). */
export class ChunkedDecoder {
  done = false;
  #state: 'size' | 'data' | 'dataEnd' | 'trailer' = 'size';
  #line = '';
  #left = 0;

  feed(view: Buffer, out: (data: Buffer) => void): void {
    let i = 0;
    while (i < view.length && !this.done) {
      if (this.#state === 'data') {
        const n = Math.min(this.#left, view.length - i);
        out(view.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = 'dataEnd';
        continue;
      }
      const nl = view.indexOf(0x0a, i);
      const end = nl < 0 ? view.length : nl;
      this.#line += view.toString('latin1', i, end);
      if (this.#line.length > 4096) throw Object.assign(new Error('chunked body: line too long'), { code: 'EPROTO' });
      i = end + (nl < 0 ? 0 : 1);
      if (nl < 0) break;
      const line = this.#line.replace(/\r$/, '');
      this.#line = '';
      this.#onLine(line);
    }
  }

  #onLine(line: string): void {
    switch (this.#state) {
      case 'size': {
        const m = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(line.trim());
        if (!m) throw Object.assign(new Error(`chunked body: bad chunk size ${JSON.stringify(line.slice(0, 40))}`), { code: 'EPROTO' });
        this.#left = parseInt(m[1]!, 16);
        this.#state = this.#left === 0 ? 'trailer' : 'data';
        return;
      }
      case 'dataEnd':
        if (line !== '') throw Object.assign(new Error('chunked body: chunk not followed by CRLF'), { code: 'EPROTO' });
        this.#state = 'size';
        return;
      case 'trailer':
        if (line === '') this.done = true;
        return;
      case 'data':
        return;
    }
  }
}
