// NODE_EXTRA_CA_CERTS over real TLS: bin/tsbuild.mjs starts Node without it (its parsing
// is ~90 ms of every start on Node 20) and the first TLS client of the process loads it
// (src/sys/tlsTrust.ts). A registry and an ADD URL served with a certificate of a private
// CA must be reached when, and only when, that CA is in NODE_EXTRA_CA_CERTS.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tar from 'tar';
import { makeTempRoot, tsbuild, type CliResult, type TempRoot } from '../../helpers/cli.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';
import { deferExtraCaCerts, trustDeferredCaCerts } from '../../../src/sys/tlsTrust.ts';

function entry(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return tsbuild(args, { env, entry: true });
}

let t: TempRoot;
let ca: string;
let otherCa: string;
let cert: { certificate: string; key: string };
let registry: RunningRegistry;
let files: https.Server;
let filesUrl: string;

/** makeCa makes a CA and, with a server name, a server certificate it signs for 127.0.0.2. */
function makeCa(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name}`]);
  return join(dir, 'ca.pem');
}

beforeAll(async () => {
  t = makeTempRoot('tsbuild-tls-');
  const pki = join(t.dir, 'pki');
  ca = makeCa(pki, 'tsbuild-test-ca');
  otherCa = makeCa(join(t.dir, 'other'), 'tsbuild-other-ca');
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'ignore' });
  writeFileSync(join(pki, 'ext'), 'subjectAltName=IP:127.0.0.2\n');
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.2']);
  run(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext']);
  cert = { certificate: join(pki, 'srv.pem'), key: join(pki, 'srv.key') };
  // 127.0.0.2 is not local to tsbuild (only localhost and 127.0.0.1 are), so it speaks TLS there.
  registry = await startRegistry({ kind: 'none' }, { address: '127.0.0.2', tls: cert });
  files = https.createServer({ cert: readFileSync(cert.certificate), key: readFileSync(cert.key) }, (_req, res) => res.end('fetched over TLS\n'));
  await new Promise<void>((r) => files.listen(0, '127.0.0.2', r));
  filesUrl = `https://127.0.0.2:${(files.address() as AddressInfo).port}/hello.txt`;
  // A one-file base image to push.
  const rootfs = join(t.dir, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/greeting'), 'hello\n');
  await tar.c({ cwd: rootfs, file: join(t.dir, 'rootfs.tar'), portable: true }, ['.']);
  for (const name of ['tls/base:1', 'tls/refused:1']) {
    const imported = await entry(['--root', t.root, 'import', join(t.dir, 'rootfs.tar'), `${registry.host}/${name}`], {});
    expect(imported.code, imported.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await new Promise<void>((r) => (files ? files.close(() => r()) : r()));
  t?.cleanup();
});

describe('NODE_EXTRA_CA_CERTS, deferred by bin/tsbuild.mjs', () => {
  it('push and pull reach a registry whose CA is only in NODE_EXTRA_CA_CERTS', async () => {
    const ref = `${registry.host}/tls/base:1`;
    const pushed = await entry(['--root', t.root, 'push', ref], { NODE_EXTRA_CA_CERTS: ca });
    expect(pushed.code, pushed.stderr).toBe(0);
    const root2 = join(t.dir, 'root2');
    const pulled = await entry(['--root', root2, 'pull', ref], { NODE_EXTRA_CA_CERTS: ca });
    expect(pulled.code, pulled.stderr).toBe(0);
    const run = await entry(['--root', root2, 'images'], { NODE_EXTRA_CA_CERTS: ca });
    expect(run.stdout).toContain('127.0.0.2');
  });

  it('without the CA, or with another one, the registry is refused with a one-line certificate error', async () => {
    for (const env of [{ NODE_EXTRA_CA_CERTS: undefined }, { NODE_EXTRA_CA_CERTS: otherCa }, { NODE_EXTRA_CA_CERTS: join(t.dir, 'missing.pem') }]) {
      const r = await entry(['--root', t.root, 'push', `${registry.host}/tls/refused:1`], env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/certificate/i);
      expect(r.stderr).toMatch(/hint: the certificate of 127\.0\.0\.2:\d+ is not trusted: add its CA \(PEM\) to NODE_EXTRA_CA_CERTS/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('ADD of an https URL trusts it too (the global fetch)', async () => {
    const ctx = join(t.dir, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Buildfile'), `FROM scratch\nADD ${filesUrl} /hello.txt\n`);
    const out = join(t.dir, 'out');
    const r = await entry(['--root', t.root, 'build', '-f', join(ctx, 'Buildfile'), '--output', `type=local,dest=${out}`, ctx], { NODE_EXTRA_CA_CERTS: ca });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'hello.txt'), 'utf8')).toBe('fetched over TLS\n');
    const refused = await entry(['--root', t.root, 'build', '--no-cache', '-f', join(ctx, 'Buildfile'), ctx], { NODE_EXTRA_CA_CERTS: undefined });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/fetch failed: .*certificate/i);
    expect(refused.stderr).toMatch(/hint: the server's certificate is not trusted/);
  });

  it('in process: the default context and one with options of its own both trust the deferred file', async () => {
    const port = (files.address() as AddressInfo).port;
    const connect = (opts: tls.ConnectionOptions) => new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.2', port, ...opts }, () => { resolve('ok'); s.destroy(); });
      s.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
    });
    expect(await connect({})).not.toBe('ok');
    deferExtraCaCerts(ca);
    trustDeferredCaCerts(tls);
    expect(await connect({})).toBe('ok');
    expect(await connect({ minVersion: 'TLSv1.2' })).toBe('ok');
    const res = await fetch(filesUrl);
    expect(await res.text()).toBe('fetched over TLS\n');
  });
});
