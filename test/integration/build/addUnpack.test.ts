import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok } from '../../helpers/cli.ts';
import { busyboxSuite, jsonEvents, unpack } from '../../helpers/image.ts';

const suite = busyboxSuite({ beforeAll, afterAll });

async function build(ctx: string, tag: string): Promise<{ cached: string[] }> {
  const r = await ok(['--root', suite.t.root, 'build', '--progress=json', '-t', tag, ctx]);
  return { cached: jsonEvents(r.stderr).filter((e) => e.type === 'step.cached').map((e) => e.step.text) };
}

describe('ADD --unpack', () => {
  test('is part of the step key: the same ADD with and without --unpack=false shares no cache record', async () => {
    const ctx = suite.ctx({ Buildfile: 'FROM busybox\nADD a.tar /d/\n', 'inner.txt': 'inside' });
    execFileSync('tar', ['-cf', 'a.tar', 'inner.txt'], { cwd: ctx });
    await build(ctx, 'unpack:default');
    const extracted = unpack(suite.t.root, 'unpack:default', join(suite.t.dir, 'u-default'));
    expect(readFileSync(join(extracted, 'd/inner.txt'), 'utf8')).toBe('inside');

    writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nADD --unpack=false a.tar /d/\n');
    const kept = await build(ctx, 'unpack:false');
    expect(kept.cached).toEqual([]);
    const copied = unpack(suite.t.root, 'unpack:false', join(suite.t.dir, 'u-false'));
    expect(lstatSync(join(copied, 'd/a.tar')).isFile()).toBe(true);
    expect(existsSync(join(copied, 'd/inner.txt'))).toBe(false);

    // Each form keeps its own record.
    writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nADD a.tar /d/\n');
    expect((await build(ctx, 'unpack:default2')).cached).toEqual(['ADD a.tar /d/']);
    writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nADD --unpack=false a.tar /d/\n');
    expect((await build(ctx, 'unpack:false2')).cached).toEqual(['ADD --unpack=false a.tar /d/']);
  });
});
