import { expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tsbuild } from '../../helpers/cli.ts';

const corpus = join(REPO, '../shared/conformance/buildkit/frontend/dockerfile/parser/testfiles');

test('parse --dump of the bundled CLI prints the reference dump', async () => {
  const r = await tsbuild(['parse', '--dump', '-f', join(corpus, 'brimstone-consuldock/Dockerfile')]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(readFileSync(join(corpus, 'brimstone-consuldock/result'), 'utf8'));
});

test('a malformed Buildfile gives one positioned line on stderr, exit 1, no stack', async () => {
  const r = await tsbuild(['parse', '-f', '-'], { input: 'FROM busybox\nRUN ["a", 1]\n' });
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: <stdin>:2:\d+: .*strings/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

test('parse --json gives instructions with ranges', async () => {
  const r = await tsbuild(['parse', '--json', '-f', '-'], { input: 'FROM busybox AS b\nCOPY --chown=1:2 a /b\n' });
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  const list = Array.isArray(out) ? out : out.instructions;
  expect(list[1]).toMatchObject({ kind: 'COPY', chown: '1:2', range: { startLine: 2 } });
});

test('unknown commands and bad flags are one usage line', async () => {
  const r = await tsbuild(['frobnicate']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^error: unknown command "frobnicate"/);
  const b = await tsbuild(['build', '--no-such-flag', '.']);
  expect(b.code).toBe(1);
  expect(b.stderr).toMatch(/^error: build: unknown flag --no-such-flag$/m);
});
