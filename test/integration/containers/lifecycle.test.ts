import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, mountsUnder, mountsUnderAnywhere } from '../../helpers/cli.ts';
import { hasBusybox, isRoot } from '../../helpers/rootfs.ts';
import { makeHarness, pidAlive, processesMentioning, type Harness } from './harness.ts';

describe.runIf(isRoot && hasBusybox())('container lifecycle', () => {
  let h: Harness;
  beforeAll(async () => { h = await makeHarness('tsbuild-life-'); });
  afterAll(async () => { await h?.cleanup(); });

  test('a container is isolated: own pid namespace, its id as hostname, no host files', async () => {
    const marker = join(h.t.dir, 'host-only-marker');
    writeFileSync(marker, 'secret');
    const r = await h.ok('run', '--name', 'iso', 'busybox', 'sh', '-c', `ps -o pid,args; echo "host=$(hostname)"; cat /etc/hostname; ls ${marker} /work 2>&1; echo "pid1=$(cat /proc/1/cmdline | tr '\\0' ' ')"`);
    const id = (await h.ok('ps', '-aq', '--no-trunc')).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PID +COMMAND$/);
    // Only the container's shell (pid 1) and its ps: none of the host's processes.
    expect(lines.slice(1, 3).map((l) => l.trim().split(/\s+/)[0])).toEqual(['1', expect.stringMatching(/^\d+$/)]);
    expect(lines[3]).toBe(`host=${id.slice(0, 12)}`);
    expect(lines[4]).toBe(id.slice(0, 12));
    expect(r.stdout).toMatch(/ls: .*host-only-marker: No such file or directory/);
    expect(r.stdout).toMatch(/ls: \/work: No such file or directory/);
    expect(r.stdout).toContain('pid1=sh -c ');
  });

  test('snapshots that run and commit installed are made durable behind them (their unsynced markers go)', async () => {
    const snaps = join(h.t.root, 'snapshots');
    // The image's layer must be extracted again, by run itself.
    for (const d of readdirSync(snaps)) rmSync(join(snaps, d), { recursive: true });
    await h.ok('run', '--name', 'dur', 'busybox', 'sh', '-c', 'echo x > /new');
    await h.ok('commit', 'dur', 'dur:1');
    const marked = () => readdirSync(snaps).filter((d) => existsSync(join(snaps, d, 'unsynced')));
    for (let i = 0; i < 250 && marked().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(marked()).toEqual([]);
    expect(readdirSync(snaps).length).toBeGreaterThanOrEqual(1);
    await h.ok('rm', 'dur');
  });

  test('rm -f of a running container stops it and leaves no process, mount or directory', async () => {
    const run = h.background('run', '--name', 'sleeper', 'busybox', 'sleep', '100');
    await h.waitStatus('sleeper', 'running');
    const ps = await h.ok('ps');
    expect(ps.stdout).toMatch(/ +busybox +"sleep 100" +.* +Up .* +sleeper\n/);
    const info = JSON.parse((await h.ok('inspect', 'sleeper')).stdout)[0];
    const initPid: number = info.State.Pid;
    expect(initPid).toBeGreaterThan(1);
    expect(pidAlive(initPid)).toBe(true);
    const dir = join(h.t.root, 'containers', info.Id);
    // The overlay lives in the supervising tsbuild's perl server's mount namespace, where runc runs too.
    expect(mountsUnder(dir)).toEqual([]);
    expect(mountsUnderAnywhere(dir)).toEqual([join(dir, 'fs/merged')]);

    const rm = await h.cli('rm', 'sleeper');
    expect(rm.code).toBe(1);
    expect(rm.stderr).toBe('error: cannot remove container "/sleeper": container is running: stop the container before removing or force remove\n');

    expect((await h.ok('rm', '-f', 'sleeper')).stdout).toBe('sleeper\n');
    const ended = await run.done;
    expect(ended.code).toBe(137);
    expect(pidAlive(initPid)).toBe(false);
    expect(processesMentioning(info.Id)).toEqual([]);
    expect(mountsUnderAnywhere(h.t.root)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect((await h.ok('ps', '-a')).stdout).not.toContain('sleeper');
  });

  test('commit of a running container: the new image has its changes, the container runs on', async () => {
    const id = (await h.ok('run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo one > /state; rm /etc/group; sleep 100')).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await h.waitStatus('live', 'running');
    // Wait for the shell to have written the file: the layer must hold it.
    for (let i = 0; i < 100 && !existsSync(join(h.t.root, 'containers', id, 'fs/upper/state')); i++) await new Promise((r) => setTimeout(r, 50));
    const img = (await h.ok('commit', '-c', 'CMD ["cat", "/state"]', '-c', 'ENV STAGE=live', 'live', 'live-snap:1')).stdout.trim();
    expect(img).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await h.ok('inspect', '-f', '{{.State.Status}}', 'live')).stdout).toBe('running\n');
    expect((await h.ok('run', '--rm', 'live-snap:1')).stdout).toBe('one\n');
    const env = await h.ok('run', '--rm', 'live-snap:1', 'sh', '-c', 'echo $STAGE; test -e /etc/group || echo no-group');
    expect(env.stdout).toBe('live\nno-group\n');
    expect((await h.ok('history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'live-snap:1')).stdout.split('\n')[0]).toBe('sh -c echo one > /state; rm /etc/group; sleep 100|');
    await h.ok('rm', '-f', 'live');
  });

  test('--rm removes the container after it exits; the exit status is the container\'s', async () => {
    const before = readdirSync(join(h.t.root, 'containers'));
    const r = await h.cli('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7');
    expect(r).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(readdirSync(join(h.t.root, 'containers'))).toEqual(before);
  });

  test('-e, -w, -u, --entrypoint and --network none apply as in Docker', async () => {
    const r = await h.ok('run', '--rm', '-e', 'A=1', '-e', 'B', '-w', '/tmp/work', '-u', 'app', '--network', 'none', 'busybox', 'sh', '-c', 'echo "$A/$B/$(pwd)/$(id -u)/$HOME"; ls /sys/class/net');
    expect(r.stdout).toBe('1///tmp/work/1000//home/app\nlo\n');
    const ep = await h.ok('run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint');
    expect(ep.stdout).toBe('from entrypoint\n');
  });

  test('a stopped container starts again on its own layer (container start -a)', async () => {
    expect((await h.cli('run', '--name', 'again', 'busybox', 'sh', '-c', 'echo x >> /count; wc -l < /count')).stdout).toBe('1\n');
    const again = await h.cli('container', 'start', '-a', 'again');
    expect(again).toMatchObject({ code: 0, stdout: '2\n' });
    await h.ok('rm', 'again');
  });

  test('only one process supervises a container; a start that fails early leaves it as it was', async () => {
    const sleeper = h.background('run', '--name', 'solo', 'busybox', 'sleep', '100');
    await h.waitStatus('solo', 'running');
    const second = await h.cli('container', 'start', '-a', 'solo');
    expect(second.code).toBe(1);
    expect(second.stderr).toBe('error: container solo is already running\n');
    await h.ok('rm', '-f', 'solo');
    expect((await sleeper.done).code).toBe(137);

    const bad = await h.cli('run', '--name', 'baduser', '-u', 'nobody-here', 'busybox', 'true');
    expect(bad.stderr.split('\n')[0]).toBe('error: unable to find user nobody-here: no matching entries in passwd file');
    expect((await h.ok('ps', '-a', '--format', '{{.Names}} {{.Status}}')).stdout).toContain('baduser Created\n');
    await h.ok('rm', 'baduser');
  });

  test('a container supervised from another PID namespace reads as running; rm -f here refuses to signal a stranger pid, and works once it is gone', async () => {
    const args = [BIN, '--root', h.t.root, 'run', '--name', 'nsrun', 'busybox', 'sleep', '100'];
    const child = spawn('unshare', ['--mount', '--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, ...args], { stdio: 'ignore', env: { ...process.env, CI: 'true' } });
    const gone = new Promise((r) => child.on('close', r));
    try {
      await h.waitStatus('nsrun', 'running');
      const rm = await h.cli('rm', '-f', 'nsrun');
      expect(rm.code).toBe(1);
      expect(rm.stderr).toMatch(/container nsrun is run by a tsbuild process in another PID namespace/);
      expect((await h.ok('ps')).stdout).toMatch(/ nsrun\n/);
    } finally {
      child.kill('SIGKILL');
      await gone;
    }
    await h.waitStatus('nsrun', 'exited');
    expect((await h.ok('rm', '-f', 'nsrun')).stdout).toBe('nsrun\n');
  });
});
