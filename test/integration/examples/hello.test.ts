import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, makeTempRoot, type TempRoot } from '../../helpers/cli.ts';
import { imageOf } from '../../helpers/image.ts';

// README's main-job command is scripts/quickstart.sh. Its first steps install host tools
// and bundle dist/ (npm test has done both; re-bundling would race the other test files),
// so this runs the rest of it, its own lines, against a temporary --root: no network.

let t: TempRoot;
beforeAll(() => { t = makeTempRoot('tsbuild-hello-'); });
afterAll(() => t.cleanup());

/** buildLines are quickstart.sh's lines after `npm run build`: make the base, build, run. */
function buildLines(): string[] {
  const lines = readFileSync(join(REPO, 'scripts/quickstart.sh'), 'utf8').split('\n');
  const after = lines.findIndex((l) => l.startsWith('npm run build'));
  expect(after).toBeGreaterThan(0);
  return lines.slice(after + 1).filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

test('quickstart.sh builds examples/hello and runs it (with --root, as its arguments allow)', () => {
  const lines = buildLines();
  expect(lines).toEqual([
    'bash scripts/make-busybox-base.sh "$@"',
    './bin/tsbuild.mjs "$@" build -t hello:latest examples/hello',
    './bin/tsbuild.mjs "$@" run --rm hello:latest',
  ]);
  const script = ['set -euo pipefail', ...lines].join('\n');
  const r = spawnSync('bash', ['-c', script, 'quickstart', '--root', t.root], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 110_000 });
  expect(r.stderr).not.toMatch(/^error:/m);
  expect(r.status).toBe(0);
  const out = r.stdout.trim().split('\n');
  // build prints the image id, then the container prints its message.
  expect(out.at(-2)).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(out.at(-1)).toBe('hello from tsbuild');
  const { config } = imageOf(t.root, 'hello:latest');
  expect(config.config.Cmd).toEqual(['/app/greet.sh']);
  expect(config.config.Labels).toEqual({ 'org.opencontainers.image.title': 'hello' });
  expect(config.config.WorkingDir).toBe('/app');
});
