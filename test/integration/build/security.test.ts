import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { busyboxSuite, jsonEvents, unpack } from '../../helpers/image.ts';

const suite = busyboxSuite({ beforeAll, afterAll });
const ctxDir = suite.ctx;
let t: TempRoot;
beforeAll(() => { t = suite.t; });

const STATUS = 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp):" /proc/self/status';
const own = readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\s*(\S+)$/m)![1]!;

describe.each(['runc', 'unshare'])('RUN --security (--runtime %s)', (runtime) => {
  test('a plain RUN has Docker\'s capabilities and its seccomp profile, as BuildKit\'s', async () => {
    const ctx = ctxDir({ Buildfile: `FROM busybox\nRUN ${STATUS} > /status\n` });
    await ok(['--root', t.root, 'build', '--progress=quiet', '--runtime', runtime, '-t', `sandbox:${runtime}`, ctx]);
    const status = readFileSync(join(unpack(t.root, `sandbox:${runtime}`, join(t.dir, `u-sandbox-${runtime}`)), 'status'), 'utf8');
    expect(status).toBe('CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nSeccomp:\t2\n');
  });

  test('--security=insecure is refused without --allow security.insecure, naming the line, before any step runs', async () => {
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nRUN echo first-step-ran\nRUN --security=insecure true\n' });
    const r = await tsbuild(['--root', t.root, 'build', '--progress=plain', '--no-cache', '--runtime', runtime, ctx], { cwd: ctx });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Buildfile:3:1: security\.insecure is not allowed$/m);
    expect(r.stderr).toContain('--allow security.insecure');
    expect(r.stderr).not.toContain('first-step-ran');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('with --allow security.insecure the step has every capability and no seccomp; its key differs from the sandboxed one', async () => {
    // Runtime in the command: the store (and so the cache) is shared by both describe blocks.
    const cmd = `echo ${runtime} > /rt && ${STATUS} > /status`;
    const sandboxed = ctxDir({ Buildfile: `FROM busybox\nRUN ${cmd}\n` });
    const insecure = ctxDir({ Buildfile: `FROM busybox\nRUN --security=insecure ${cmd}\n` });
    await ok(['--root', t.root, 'build', '--progress=quiet', '--runtime', runtime, sandboxed]);
    const r = await ok(['--root', t.root, 'build', '--progress=json', '--runtime', runtime, '--allow', 'security.insecure', '-t', `insecure:${runtime}`, insecure]);
    expect(jsonEvents(r.stderr).filter((e) => e.type === 'step.cached')).toEqual([]);
    const status = readFileSync(join(unpack(t.root, `insecure:${runtime}`, join(t.dir, `u-insecure-${runtime}`)), 'status'), 'utf8');
    expect(status).toBe(`CapInh:\t${own}\nCapPrm:\t${own}\nCapEff:\t${own}\nCapBnd:\t${own}\nCapAmb:\t${own}\nSeccomp:\t0\n`);
    // The same two builds again: each hits its own record.
    const again = await ok(['--root', t.root, 'build', '--progress=json', '--runtime', runtime, '--allow', 'security.insecure', insecure]);
    expect(jsonEvents(again.stderr).filter((e) => e.type === 'step.cached').map((e) => e.step.range.startLine)).toEqual([2]);
  });
});

test('--allow takes security.insecure and network.host, repeated; anything else is a usage error', async () => {
  const ctx = ctxDir({ Buildfile: 'FROM busybox\nRUN --security=sandbox true\n' });
  await ok(['--root', t.root, 'build', '--progress=quiet', '--allow', 'network.host', '--allow', 'security.insecure', ctx]);
  await ok(['--root', t.root, 'build', '--progress=quiet', '--allow', 'security.insecure,network.host', ctx]);
  const r = await tsbuild(['--root', t.root, 'build', '--progress=quiet', '--allow', 'device', ctx]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^error: build: --allow: unknown entitlement "device" \(want security\.insecure or network\.host\)$/m);
});
