import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsbuild } from '../../helpers/cli.ts';

// A mistake on the command line gets one line that says what is wrong, with a suggestion when
// there is a likely one, before any work is done.

let dir: string;
let ctx: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-mistakes-'));
  ctx = join(dir, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nRUN echo a step ran\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('build checks its arguments before it starts', () => {
  test('an invalid -t name fails before any step runs', async () => {
    const r = await tsbuild(['--root', join(dir, 'root'), 'build', '--progress=plain', '-t', 'ok:1', '-t', 'Bad:Tag!', ctx]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe([
      'error: build: -t Bad:Tag!: invalid reference "Bad:Tag!": tag "Tag!" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}',
      '  hint: references look like name[:tag] or name@sha256:<64 hex>, e.g. app:1, localhost:5000/team/app:v2',
      '',
    ].join('\n'));
  });
});
