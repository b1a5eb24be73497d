import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ok } from '../../helpers/cli.ts';
import { busyboxSuite, jsonEvents } from '../../helpers/image.ts';
import { RACY_MS, StatCache } from '../../../src/context/StatCache.ts';

// A warm build takes an unchanged file's digest from ROOT/cache/statcache-*.bin without
// reading it. Proof from outside: forge the remembered digest of one file, and the COPY's
// key follows the forged value (it runs again); put the true digest back and it hits.

const suite = busyboxSuite({ beforeAll, afterAll });

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function statCacheFile(root: string): string {
  const names = readdirSync(join(root, 'cache')).filter((n) => /^statcache-[0-9a-f]+\.bin$/.test(n));
  expect(names).toHaveLength(1);
  return join(root, 'cache', names[0]!);
}

/** setDigest rewrites the remembered sha256 of the context file path, keeping its stat. */
async function setDigest(file: string, ctx: string, path: string, hex: string): Promise<void> {
  const cache = await StatCache.load(file);
  const st = lstatSync(join(ctx, path));
  expect(cache.get(path, st), `no stat cache entry for ${path}`).toBeDefined();
  cache.set(path, st, hex, Date.now());
  await cache.save();
}

async function build(root: string, ctx: string): Promise<{ id: string; copyCached: boolean }> {
  const r = await ok(['--root', root, 'build', '--progress=json', ctx]);
  const ev = jsonEvents(r.stderr);
  const copy = (type: string) => ev.some((e) => e.type === type && e.step.text.startsWith('COPY'));
  expect(copy('step.cached') !== copy('step.start')).toBe(true);
  return { id: r.stdout.trim(), copyCached: copy('step.cached') };
}

test('a warm build takes file digests from the stat cache, not from the files', async () => {
  const { root } = suite.t;
  const ctx = suite.ctx({ Buildfile: 'FROM busybox\nCOPY a.txt b.txt /\n', 'a.txt': 'alpha\n', 'b.txt': 'beta\n' });
  // Files changed within RACY_MS of hashing are not remembered: let them settle.
  await new Promise((r) => setTimeout(r, RACY_MS * 3));
  const cold = await build(root, ctx);
  expect(cold.copyCached).toBe(false);
  const file = statCacheFile(root);
  const cache = await StatCache.load(file);
  expect([cache.get('a.txt', lstatSync(join(ctx, 'a.txt'))), cache.get('b.txt', lstatSync(join(ctx, 'b.txt')))]).toEqual([sha('alpha\n'), sha('beta\n')]);
  expect(await build(root, ctx)).toEqual({ id: cold.id, copyCached: true });

  await setDigest(file, ctx, 'a.txt', sha('forged\n'));
  expect((await build(root, ctx)).copyCached).toBe(false);

  await setDigest(file, ctx, 'a.txt', sha('alpha\n'));
  expect(await build(root, ctx)).toEqual({ id: cold.id, copyCached: true });
});
