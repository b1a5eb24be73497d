// Many builds, one store: what CI does with a shared cache volume, some jobs in their own
// PID namespace (a container). Builds in other namespaces are started as the issue reproduced
// it: `unshare -m -p -f --mount-proc tsbuild build …`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { BIN, makeTempRoot, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, makeContext } from '../../helpers/image.ts';
import { isRoot } from '../../helpers/rootfs.ts';

let t: TempRoot;
const children: ChildProcess[] = [];
beforeAll(async () => {
  t = makeTempRoot('tsbuild-conc-');
  await importBusybox(t.root, t.dir);
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => t.cleanup());

interface Build { child: ChildProcess; done: Promise<{ code: number; stderr: string }>; stderr: () => string }

/** start runs `tsbuild build -t tag ctx` on the shared root, in a PID (and mount) namespace of its own if ns. */
function start(ctx: string, tag: string, ns = false): Build {
  const args = [BIN, '--root', t.root, 'build', '--progress=plain', '-t', tag, ctx];
  const child = ns
    ? spawn('unshare', ['--mount', '--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' } })
    : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number; stderr: string }>((resolve) => child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stderr })));
  return { child, done, stderr: () => stderr };
}

async function succeeded(b: Build): Promise<void> {
  const r = await b.done;
  if (r.code !== 0) throw new Error(`build exited ${r.code}:\n${r.stderr}`);
}

/** cacheFile is a file in the host dir of a cache mount (ROOT/cache/mounts/<hash of id>). */
function cacheFile(id: string, name: string): string {
  return join(t.root, 'cache/mounts', createHash('sha256').update(id).digest('hex').slice(0, 32), name);
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const runDirs = () => readdirSync(join(t.root, 'tmp')).filter((n) => n.startsWith('run-'));

describe.runIf(isRoot)('concurrent builds on one root', () => {
  test("a build in its own PID namespace leaves a running build's step dir alone; both succeed", async () => {
    const before = new Set(runDirs());
    // The first build's RUN lasts until the test opens the gate (a file in a cache mount).
    const gate = "RUN --mount=type=cache,id=ns-gate,target=/g sh -c 'i=0; while [ ! -e /g/open ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo a > /a'";
    const a = start(makeContext(t.dir, { Buildfile: `FROM busybox\n${gate}\n` }), 'ns-a');
    await until(() => runDirs().some((d) => !before.has(d)), "the first build's RUN");
    const stepDir = runDirs().find((d) => !before.has(d))!;
    const b = start(makeContext(t.dir, { Buildfile: 'FROM busybox\nRUN echo b > /b\n' }), 'ns-b', true);
    await succeeded(b);
    expect(existsSync(join(t.root, 'tmp', stepDir, 'upper'))).toBe(true);
    await until(() => existsSync(cacheFile('ns-gate', '.')), 'the gate');
    writeFileSync(cacheFile('ns-gate', 'open'), '');
    await succeeded(a);
  });

  test('sharing=locked serialises the steps of two processes (their timestamps in the cache do not overlap)', async () => {
    const run = (who: string) =>
      `FROM busybox\nRUN --mount=type=cache,id=locked-log,target=/c,sharing=locked sh -c 'echo "${who} start $(date +%s.%N)" >> /c/log; sleep 1; echo "${who} end $(date +%s.%N)" >> /c/log'\n`;
    const builds = [start(makeContext(t.dir, { Buildfile: run('a') }), 'locked-a'), start(makeContext(t.dir, { Buildfile: run('b') }), 'locked-b', true)];
    await Promise.all(builds.map(succeeded));
    const log = lines(cacheFile('locked-log', 'log')).map((l) => l.split(' '));
    expect(log.map(([who, what]) => `${who} ${what}`)).toSatisfy((l: string[]) => l.join(',') === 'a start,a end,b start,b end' || l.join(',') === 'b start,b end,a start,a end');
    const times = log.map((l) => Number(l[2]));
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });

  test('sharing=private gives each of two concurrent processes its own dir', async () => {
    // Each writes its name, waits for the other to have started, and fails if the file changed under it.
    const run = (who: string) =>
      `FROM busybox\nRUN --mount=type=cache,id=private-who,target=/c,sharing=private --mount=type=cache,id=private-trace,target=/t sh -c 'echo ${who} > /c/who; echo ${who} >> /t/started; i=0; while [ $(wc -l < /t/started) -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.5; test "$(cat /c/who)" = ${who}'\n`;
    const builds = [start(makeContext(t.dir, { Buildfile: run('a') }), 'private-a'), start(makeContext(t.dir, { Buildfile: run('b') }), 'private-b', true)];
    await Promise.all(builds.map(succeeded));
    expect(lines(cacheFile('private-trace', 'started')).sort()).toEqual(['a', 'b']);
    expect(['a', 'b']).toContain(lines(cacheFile('private-who', 'who'))[0]);
  });

  test('four builds at once, two in their own PID namespace, run the shared steps once and share their layers', async () => {
    const prefix = [
      'FROM busybox',
      "RUN --mount=type=cache,id=flight-count,target=/count sh -c 'echo run >> /count/one; sleep 2; od -An -N8 -tx1 /dev/urandom > /rand1'",
      "RUN --mount=type=cache,id=flight-count,target=/count sh -c 'echo run >> /count/two; od -An -N8 -tx1 /dev/urandom > /rand2'",
    ].join('\n');
    const builds = [0, 1, 2, 3].map((i) => start(makeContext(t.dir, { Buildfile: `${prefix}\nRUN echo ${i} > /leaf\n` }), `flight-${i}`, i % 2 === 1));
    await Promise.all(builds.map(succeeded));
    expect(lines(cacheFile('flight-count', 'one'))).toEqual(['run']);
    expect(lines(cacheFile('flight-count', 'two'))).toEqual(['run']);
    const layers = [0, 1, 2, 3].map((i) => imageOf(t.root, `flight-${i}`).manifest.layers.map((l: { digest: string }) => l.digest) as string[]);
    for (const l of layers) {
      expect(l).toHaveLength(4);
      expect(l.slice(0, 3)).toEqual(layers[0]!.slice(0, 3));
    }
    expect(new Set(layers.map((l) => l[3])).size).toBe(4);
  });

  test('two stages of one build with the same step run it once', async () => {
    const step = "RUN --mount=type=cache,id=stages-count,target=/count sh -c 'echo run >> /count/n; sleep 1; od -An -N8 -tx1 /dev/urandom > /rand'";
    const file = `FROM busybox AS a\n${step}\nFROM busybox AS b\n${step}\nFROM busybox\nCOPY --from=a /rand /a\nCOPY --from=b /rand /b\n`;
    await succeeded(start(makeContext(t.dir, { Buildfile: file }), 'stages'));
    expect(lines(cacheFile('stages-count', 'n'))).toEqual(['run']);
  });

  test('a producer SIGKILLed mid-step does not hold up the builds waiting for it: one of them takes over', async () => {
    const file = "FROM busybox\nRUN --mount=type=cache,id=killed-count,target=/count sh -c 'echo run >> /count/n; sleep 3; echo done > /x'\n";
    const producer = start(makeContext(t.dir, { Buildfile: file }), 'killed-p');
    await until(() => lines(cacheFile('killed-count', 'n')).length === 1, "the producer's RUN");
    const waiters = [start(makeContext(t.dir, { Buildfile: file }), 'killed-w1'), start(makeContext(t.dir, { Buildfile: file }), 'killed-w2', true)];
    // Both wait, and say so; nobody else ran the step.
    const said = /RUN --mount=type=cache,id=killed-count.*: waiting for another build \(or stage\) that runs this step/;
    await until(() => waiters.every((w) => said.test(w.stderr())), 'both builds to wait for the producer');
    expect(lines(cacheFile('killed-count', 'n'))).toHaveLength(1);
    producer.child.kill('SIGKILL');
    const t0 = Date.now();
    await Promise.all(waiters.map(succeeded));
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(lines(cacheFile('killed-count', 'n'))).toHaveLength(2);
    expect(imageOf(t.root, 'killed-w1').manifest.layers).toEqual(imageOf(t.root, 'killed-w2').manifest.layers);
  });
});
