import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok } from '../../helpers/cli.ts';
import { busyboxSuite, jsonEvents } from '../../helpers/image.ts';
import { RACY_MS } from '../../../src/context/StatCache.ts';

// A warm build takes an unchanged file's digest from ROOT/cache/statcache-*.json without
// reading it. Proof from outside: forge the remembered digest of one file, and the COPY's
// key follows the forged value (it runs again); put the true digest back and it hits.

const suite = busyboxSuite({ beforeAll, afterAll });

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function statCacheFile(root: string): string {
  const names = readdirSync(join(root, 'cache')).filter((n) => /^statcache-[0-9a-f]+\.json$/.test(n));
  expect(names).toHaveLength(1);
  return join(root, 'cache', names[0]!);
}

/** setDigest rewrites the remembered sha256 of the entry for path (last field of its row). */
function setDigest(file: string, path: string, hex: string): void {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, unknown[]> };
  const key = Object.keys(data.entries).find((k) => k.replace(/^\//, '') === path);
  expect(key, `no stat cache entry for ${path}`).toBeDefined();
  data.entries[key!]![5] = hex;
  writeFileSync(file, JSON.stringify(data));
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
  const entries = Object.values((JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, unknown[]> }).entries);
  expect(entries.map((e) => e[5])).toEqual(expect.arrayContaining([sha('alpha\n'), sha('beta\n')]));
  expect(await build(root, ctx)).toEqual({ id: cold.id, copyCached: true });

  setDigest(file, 'a.txt', sha('forged\n'));
  expect((await build(root, ctx)).copyCached).toBe(false);

  setDigest(file, 'a.txt', sha('alpha\n'));
  expect(await build(root, ctx)).toEqual({ id: cold.id, copyCached: true });
});
