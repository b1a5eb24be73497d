import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mountsUnder } from '../../helpers/cli.ts';
import { hasBusybox, isRoot } from '../../helpers/rootfs.ts';
import { makeHarness, processesMentioning, type Harness } from './harness.ts';

describe.runIf(isRoot && hasBusybox())('run: stdin, network, environment, signals', () => {
  let h: Harness;
  beforeAll(async () => { h = await makeHarness('tsbuild-runopt-'); });
  afterAll(async () => { await h?.cleanup(); });

  test('-i without -t passes piped stdin to the process; without -i the process reads EOF', async () => {
    const piped = await h.cliWith({ input: 'hello\nworld\n' }, 'run', '--rm', '-i', 'busybox', 'cat');
    expect(piped).toMatchObject({ code: 0, stdout: 'hello\nworld\n' });
    const read = await h.cliWith({ input: 'typed\n' }, 'run', '--rm', '-i', 'busybox', 'sh', '-c', 'read x; echo "got $x"');
    expect(read.stdout).toBe('got typed\n');
    const detached = await h.cliWith({ input: 'hello\n' }, 'run', '--rm', 'busybox', 'sh', '-c', 'cat; echo "eof $?"');
    expect(detached).toMatchObject({ code: 0, stdout: 'eof 0\n' });
  });

  test('--runtime unshare is a usage error for run and container start: their containers are attached, so runc runs them', async () => {
    for (const args of [['run', '--runtime', 'unshare', 'busybox', 'true'], ['container', 'start', '--runtime', 'unshare', 'any']]) {
      const r = await h.cli(...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: (run|container start): --runtime must be auto or runc, not "unshare"\n.*runs build steps only/);
    }
    expect((await h.ok('run', '--rm', '--runtime', 'runc', 'busybox', 'echo', 'ok')).stdout).toBe('ok\n');
  });

  test('--network host (the default) shows the host\'s interfaces inside', async () => {
    const host = readdirSync('/sys/class/net').sort();
    expect(host.length).toBeGreaterThan(1); // more than lo, or the comparison with none proves nothing
    for (const args of [['--network', 'host'], []]) {
      const r = await h.ok('run', '--rm', ...args, 'busybox', 'ls', '-1', '/sys/class/net');
      expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(host);
    }
    expect((await h.ok('run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net')).stdout).toBe('lo\n');
  });

  test('-e K takes K from the calling environment; an unset K is dropped (the image\'s value stays)', async () => {
    await h.ok('run', '--name', 'envbase', 'busybox', 'true');
    await h.ok('commit', '-c', 'ENV FROM_IMAGE=image UNSET_HERE=image-too', 'envbase', 'envimg');
    await h.ok('rm', 'envbase');
    const io = { env: { FROM_CALLER: 'caller value', EMPTY_HERE: '', FROM_IMAGE: 'overridden' } };
    const r = await h.cliWith(io, 'run', '--rm', '-e', 'FROM_CALLER', '-e', 'EMPTY_HERE', '-e', 'FROM_IMAGE', '-e', 'UNSET_HERE', '-e', 'NOT_ANYWHERE', 'envimg', 'env');
    expect(r.code).toBe(0);
    const env = r.stdout.split('\n').filter((l) => /^(FROM_CALLER|EMPTY_HERE|FROM_IMAGE|UNSET_HERE|NOT_ANYWHERE)=/.test(l)).sort();
    expect(env).toEqual(['EMPTY_HERE=', 'FROM_CALLER=caller value', 'FROM_IMAGE=overridden', 'UNSET_HERE=image-too']);
    // The container's config holds what was resolved, not the bare names.
    await h.cliWith(io, 'run', '--name', 'envrec', '-e', 'FROM_CALLER', '-e', 'NOT_ANYWHERE', 'busybox', 'true');
    expect(JSON.parse((await h.ok('inspect', '-f', '{{json .Config.Env}}', 'envrec')).stdout)).toEqual(['FROM_CALLER=caller value']);
    await h.ok('rm', 'envrec');
  });

  test('SIGHUP (the terminal closed) ends a foreground run with cleanup, as Ctrl-C does', async () => {
    const run = h.background('run', '--name', 'hup', 'busybox', 'sleep', '100');
    await h.waitStatus('hup', 'running');
    const id: string = JSON.parse((await h.ok('inspect', 'hup')).stdout)[0].Id;
    // 'exit', not run.done: without cleanup the container's sleep would hold the output pipes open.
    const exited = new Promise<number | null>((res) => run.child.once('exit', (code) => res(code)));
    run.child.kill('SIGHUP');
    // An exit code, not death by the signal: tsbuild handled it.
    expect(await exited).toBe(137);
    // The supervisor stopped the container and recorded it: not the Exited (255) of a supervisor that died.
    expect((await h.ok('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'hup')).stdout).toBe('exited 137\n');
    expect(mountsUnder(join(h.t.root, 'containers', id))).toEqual([]);
    expect(processesMentioning(id)).toEqual([]);
    await h.ok('rm', 'hup');
  });
});
