import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ok } from '../../helpers/cli.ts';
import { ESCAPE_ATTEMPTS, ESCAPE_SCRIPT, escapeHelper, hostBlockDevice } from '../../helpers/escapeHelper.ts';
import { busyboxSuite, unpack } from '../../helpers/image.ts';
import { hasBusybox, isRoot } from '../../helpers/rootfs.ts';

const suite = busyboxSuite({ beforeAll, afterAll });

// The escape suite (test/integration/executor/escape.suite.ts) end to end: a Buildfile's RUN
// step tries every way out, with the builder's environment and command line holding secrets.
test.runIf(isRoot && hasBusybox()).each(['auto', 'runc'])('a RUN step cannot leave its container (--runtime %s)', async (runtime) => {
  const t = suite.t;
  const secret = randomBytes(12).toString('hex');
  const marker = join(t.dir, `host-only-${runtime}`);
  writeFileSync(marker, `host-${secret}\n`);
  const created = join(t.dir, `created-${runtime}`);
  const { major, minor } = hostBlockDevice();
  const ctx = suite.ctx({
    Buildfile: [
      'FROM busybox',
      'COPY escape /bin/escape',
      'COPY escape.sh /escape.sh',
      `RUN sh /escape.sh ${marker} ${created} ${major} ${minor} ${process.pid} > /results 2>&1`,
    ].join('\n') + '\n',
    'escape.sh': ESCAPE_SCRIPT,
  });
  copyFileSync(escapeHelper(), join(ctx, 'escape'));
  chmodSync(join(ctx, 'escape'), 0o755);
  const tag = `escape-${runtime}:c${secret}`;
  await ok(['--root', t.root, 'build', '--progress=quiet', '--no-cache', '--runtime', runtime, '-t', tag, ctx], { env: { TSBUILD_ESCAPE_SECRET: `env-${secret}` } });
  const results = readFileSync(join(unpack(t.root, tag, join(t.dir, `unpack-${runtime}`)), 'results'), 'utf8');
  expect(results.split('\n').filter((l) => l.includes(' ESCAPED'))).toEqual([]);
  for (const name of ESCAPE_ATTEMPTS) expect(results).toMatch(new RegExp(`^${name} blocked`, 'm'));
  expect(results).not.toContain(secret);
  expect(results).toMatch(/^info PATH=/m);
  for (const f of ['chroot', 'chroot-fd', 'proc']) expect(existsSync(`${created}-${f}`)).toBe(false);
});
