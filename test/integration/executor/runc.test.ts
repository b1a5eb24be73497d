import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { RuncExecutor } from '../../../src/executor/RuncExecutor.ts';
import { buildRuntimeSpec } from '../../../src/executor/runtimeSpec.ts';
import { writeContainerFiles } from '../../../src/executor/containerFiles.ts';
import { prepareMountPoints } from '../../../src/executor/mountPoints.ts';
import { allMounts } from '../../../src/executor/runtimeSpec.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { executorSuite, run, Sandbox } from './executor.suite.ts';
import { escapeSuite } from './escape.suite.ts';

describe.runIf(isRoot)('RuncExecutor', () => {
  describe('conformance', () => executorSuite(() => new RuncExecutor()));
  describe('escape', () => escapeSuite(() => new RuncExecutor()));

  describe('runc specifics', () => {
    const box = new Sandbox();
    const ex = new RuncExecutor();
    afterAll(() => box.cleanup());

    test('a missing executable is a RUNTIME error carrying runc\'s message', async () => {
      const s = box.spec(box.rootfs(), ['/no/such/binary']);
      await expect(run(ex, s)).rejects.toMatchObject({ code: 'RUNTIME', message: expect.stringContaining('/no/such/binary') });
      expect(existsSync(s.stateDir)).toBe(false);
    });

    test('no cgroup is left behind', async () => {
      const s = box.spec(box.rootfs(), ['/bin/true']);
      await run(ex, s);
      const leftovers = readdirSync('/sys/fs/cgroup').filter((c) => existsSync(join('/sys/fs/cgroup', c, s.id)));
      expect(leftovers).toEqual([]);
    });

    test.each([0, 20, 60])('abort %i ms into start-up leaves no cgroup and no runc state', async (ms) => {
      const ac = new AbortController();
      const s = box.spec(box.rootfs(), ['/bin/sleep', '100'], { signal: ac.signal });
      const p = run(ex, s);
      setTimeout(() => ac.abort(), ms);
      expect((await p).status.signal).toBe('SIGKILL');
      expect(readdirSync('/sys/fs/cgroup').filter((c) => existsSync(join('/sys/fs/cgroup', c, s.id)))).toEqual([]);
      expect(existsSync(s.stateDir)).toBe(false);
    });

    test('a terminal is allocated in the foreground when stdio is a tty', async () => {
      // Node cannot hold a pty itself, so let util-linux `script` give runc one, with a config we built.
      const rootfs = box.rootfs();
      const state = join(box.dir, 'tty-state');
      const bundle = join(state, 'bundle');
      mkdirSync(bundle, { recursive: true });
      const spec = { ...box.spec(rootfs, ['/bin/sh', '-c', 'tty; test -t 0 && echo stdin-is-tty']), stdin: 'inherit' as const, stdout: 'inherit' as const, stderr: 'inherit' as const };
      const files = await writeContainerFiles(state, spec.id);
      await prepareMountPoints(rootfs, allMounts(spec, files));
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(buildRuntimeSpec(spec, files, true)));
      const out = execFileSync('script', ['-qec', `runc --root ${join(state, 'runc')} run --bundle ${bundle} ${spec.id}`, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out.replace(/\r|\0|\^@/g, '')).toBe('/dev/pts/0\nstdin-is-tty\n');
      expect(readdirSync(join(state, 'runc'))).toEqual([]);
    });

    test('stdin is passed through', async () => {
      const r = await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', 'tr a-z A-Z'], { stdin: Readable.from(['hello ', 'world\n']) }));
      expect(r.stdout).toBe('HELLO WORLD\n');
    });

    test('terminal without inherited stdio is refused', async () => {
      const s = box.spec(box.rootfs(), ['/bin/true'], { process: { terminal: true } });
      await expect(run(ex, s)).rejects.toMatchObject({ code: 'RUNTIME' });
    });
  });
});
