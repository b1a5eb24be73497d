import { createHash, randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Agents, readText, send } from '../../../src/registry/http.ts';
import { ChunkedDecoder, getInto } from '../../../src/registry/rawGet.ts';
import { RegistryError } from '../../../src/registry/errors.ts';

/** A server that answers every connection with the bytes a handler chooses, written in pieces of `piece` bytes. */
function rawServer(handler: (path: string) => { parts: Buffer[]; piece?: number; cut?: boolean }): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const srv = net.createServer((sock) => {
      let head = '';
      sock.on('data', (d) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const path = head.split(' ')[1]!;
        const { parts, piece = 0, cut = false } = handler(path);
        const all = Buffer.concat(parts);
        void (async () => {
          for (let i = 0; i < all.length; i += piece || all.length) {
            if (!sock.write(all.subarray(i, i + (piece || all.length)))) await new Promise((r) => sock.once('drain', r));
            if (piece) await new Promise((r) => setImmediate(r));
          }
          if (cut) sock.destroy();
          else sock.end();
        })();
      });
      sock.on('error', () => undefined);
    });
    srv.listen(0, '127.0.0.1', () => resolve({ port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) }));
  });
}

/** A sink that hashes what it gets, optionally slowly (so reading must pause). */
function sink(delayMs = 0): { w: Writable; digest: () => string; bytes: () => number } {
  const h = createHash('sha256');
  let n = 0;
  const w = new Writable({
    highWaterMark: 1 << 20,
    write(c: Buffer, _e, cb) {
      h.update(c);
      n += c.length;
      if (delayMs) setTimeout(cb, delayMs);
      else cb();
    },
  });
  return { w, digest: () => h.digest('hex'), bytes: () => n };
}

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const chunked = (body: Buffer, size: number) => {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const c = body.subarray(i, i + size);
    out.push(Buffer.from(`${c.length.toString(16)};ext=1\r\n`), c, Buffer.from('\r\n'));
  }
  out.push(Buffer.from('0\r\nX-Trailer: y\r\n\r\n'));
  return out;
};

describe('getInto', () => {
  const body = randomBytes(5 * (1 << 20) + 12345);
  let srv: Awaited<ReturnType<typeof rawServer>>;
  beforeAll(async () => {
    srv = await rawServer((path) => {
      switch (path) {
        case '/length':
          return { parts: [Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Type: application/octet-stream\r\n\r\n`), body] };
        case '/length-1.5m':
          return { parts: [Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${1.5 * (1 << 20)}\r\n\r\n`), body.subarray(0, 1.5 * (1 << 20))] };
        case '/length-tiny-reads':
          return { parts: [Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n`), body.subarray(0, 70000)], piece: 7 };
        case '/chunked':
          return { parts: [Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), ...chunked(body, 100_003)], piece: 65_521 };
        case '/early-hints': // an interim 103 first, in the same read as the real head and the body's start
          return { parts: [Buffer.from(`HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body], piece: 40_000 };
        case '/close':
          return { parts: [Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), body] };
        case '/cut':
          return { parts: [Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body.subarray(0, 1000)], cut: true };
        case '/redirect':
          return { parts: [Buffer.from(`HTTP/1.1 307 Temporary Redirect\r\nLocation: /length\r\nContent-Length: 5\r\n\r\nmoved`)] };
        default:
          return { parts: [Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 36\r\n\r\n{"errors":[{"code":"BLOB_UNKNOWN"}]}')] };
      }
    });
  });
  afterAll(() => srv.close());
  const url = (p: string) => new URL(`http://127.0.0.1:${srv.port}${p}`);

  test.each([
    ['/length', body],
    ['/length-tiny-reads', body.subarray(0, 70000)], // the head and body arrive 7 bytes at a time
    ['/chunked', body], // chunk boundaries fall anywhere in a read
    ['/close', body], // no length: the body ends with the connection
    ['/early-hints', body], // a 1xx answer before the real one is skipped
  ])('%s: the sink gets exactly the body', async (path, want) => {
    const s = sink();
    const res = await getInto({ method: 'GET', url: url(path) }, s.w);
    expect(res.status).toBe(200);
    await res.done;
    expect(s.bytes()).toBe(want.length);
    expect(s.digest()).toBe(hex(want));
  });

  test('a slow sink pauses reading and still gets every byte', async () => {
    const s = sink(5);
    const res = await getInto({ method: 'GET', url: url('/length') }, s.w);
    await res.done;
    expect(s.digest()).toBe(hex(body));
  });

  test.each([
    ['/length', 2], // in the middle of the body
    ['/length-1.5m', 2], // at the last write, after the whole body was read
  ])('%s: a sink failing at write %i fails done with its error (never unhandled)', async (path, failAt) => {
    let n = 0;
    const w = new Writable({ write(_c, _e, cb) { cb(++n === failAt ? new Error('disk full') : null); } });
    const res = await getInto({ method: 'GET', url: url(path) }, w);
    await expect(res.done).rejects.toThrow('disk full');
  });

  test('a non-200 body is the response body, not the sink', async () => {
    const s = sink();
    const res = await getInto({ method: 'GET', url: url('/missing') }, s.w);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/json');
    expect((await readText(res)).toString()).toContain('BLOB_UNKNOWN');
    expect(s.bytes()).toBe(0);
  });

  test('a connection cut inside the body fails done with a temporary network error (send)', async () => {
    const agents = new Agents();
    const s = sink();
    const res = await send({ method: 'GET', url: url('/cut'), into: s.w }, agents);
    const err = await res.done!.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).temporary).toBe(true);
    agents.destroy();
  });

  test('send follows a redirect and only the final 200 body reaches the sink', async () => {
    const agents = new Agents();
    const s = sink();
    const res = await send({ method: 'GET', url: url('/redirect'), into: s.w }, agents);
    expect(res.status).toBe(200);
    await res.done;
    expect(s.digest()).toBe(hex(body));
    agents.destroy();
  });

  test('refused connection is a network error from send', async () => {
    const agents = new Agents();
    const err = await send({ method: 'GET', url: new URL('http://127.0.0.1:1/x'), into: sink().w }, agents).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    agents.destroy();
  });

  test('an abort signal ends a download; finished downloads leave no listener on it', async () => {
    const ac = new AbortController();
    const s = sink(5);
    for (let i = 0; i < 12; i++) await (await getInto({ method: 'GET', url: url('/length-1.5m'), signal: ac.signal }, sink().w)).done;
    // The last connection's close may come a moment after its done.
    for (let i = 0; i < 100 && getEventListeners(ac.signal, 'abort').length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const res = await getInto({ method: 'GET', url: url('/length'), signal: ac.signal }, s.w);
    ac.abort(new Error('stop'));
    await expect(res.done).rejects.toThrow('stop');
  });

  test('a header value with a line break is refused', async () => {
    await expect(getInto({ method: 'GET', url: url('/length'), headers: { 'X-A': 'a\r\nX-B: b' } }, sink().w)).rejects.toThrow(/line break/);
  });
});

describe('ChunkedDecoder', () => {
  test('decodes across any split', () => {
    const data = randomBytes(3000);
    const enc = Buffer.concat(chunked(data, 777));
    for (const step of [1, 2, 5, 64, enc.length]) {
      const d = new ChunkedDecoder();
      const out: Buffer[] = [];
      for (let i = 0; i < enc.length; i += step) d.feed(enc.subarray(i, i + step), (b) => out.push(Buffer.from(b)));
      expect(d.done).toBe(true);
      expect(Buffer.concat(out).equals(data)).toBe(true);
    }
  });

  test.each([
    ['zz\r\n', /bad chunk size/], // not hex
    ['3\r\nabcX\r\n', /not followed by CRLF/], // data longer than its size
  ])('refuses %j', (enc, re) => {
    expect(() => new ChunkedDecoder().feed(Buffer.from(enc), () => undefined)).toThrow(re);
  });
});
