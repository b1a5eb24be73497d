import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ESCAPE_ATTEMPTS, ESCAPE_SCRIPT, escapeHelper, hostBlockDevice } from '../../helpers/escapeHelper.ts';
import { hasBusybox, isRoot } from '../../helpers/rootfs.ts';
import { makeHarness, type Harness } from './harness.ts';

// The escape suite (test/integration/executor/escape.suite.ts) end to end: a `tsbuild run`
// container tries every way out, with the CLI's environment and command line holding secrets.
describe.runIf(isRoot && hasBusybox())('tsbuild run: escape attempts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness('tsbuild-escape-');
    const ctx = mkdtempSync(join(h.t.dir, 'ctx-'));
    writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nCOPY escape /bin/escape\nCOPY escape.sh /escape.sh\n');
    writeFileSync(join(ctx, 'escape.sh'), ESCAPE_SCRIPT);
    copyFileSync(escapeHelper(), join(ctx, 'escape'));
    chmodSync(join(ctx, 'escape'), 0o755);
    await h.ok('build', '--progress=quiet', '-t', 'escape', ctx);
  });
  afterAll(async () => { await h?.cleanup(); });

  test('a container cannot leave its root or reach the host', async () => {
    const secret = randomBytes(12).toString('hex');
    const marker = join(h.t.dir, 'host-only');
    writeFileSync(marker, `host-${secret}\n`);
    const created = join(h.t.dir, 'created');
    const { major, minor } = hostBlockDevice();
    const r = await h.cliWith({ env: { TSBUILD_ESCAPE_SECRET: `env-${secret}` } },
      'run', '--rm', '--name', `c${secret}`, 'escape', 'sh', '/escape.sh', marker, created, String(major), String(minor), String(process.pid));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.includes(' ESCAPED'))).toEqual([]);
    for (const name of ESCAPE_ATTEMPTS) expect(r.stdout).toMatch(new RegExp(`^${name} blocked`, 'm'));
    expect(r.stdout).not.toContain(secret);
    expect(r.stdout).toMatch(/^info PATH=/m);
    for (const f of ['chroot', 'chroot-fd', 'proc']) expect(existsSync(`${created}-${f}`)).toBe(false);
  });
});
