import { afterAll, beforeAll, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { importBusybox } from '../../helpers/image.ts';

// On a terminal the build shows an ora spinner and leaves one finished line per
// step; checked for real in tmux (a pseudo-terminal), reading the screen.

let t: TempRoot;
const session = `tsbuild-tty-${process.pid}`;
beforeAll(async () => {
  t = makeTempRoot();
  await importBusybox(t.root, t.dir);
});
afterAll(() => {
  try { execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' }); } catch { /* gone */ }
  t.cleanup();
});

test('a TTY build shows finished steps with times and CACHED marks, and the image id', async () => {
  const ctx = mkdtempSync(join(t.dir, 'ctx-'));
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nRUN echo one > /one\nRUN sleep 1 && echo two > /two\n');
  await ok(['--root', t.root, 'build', '--progress=quiet', ctx]);
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nRUN echo one > /one\nRUN sleep 1 && echo three > /three\n');
  const done = join(t.dir, 'done');
  const cmd = `env -u CI ${process.execPath} ${BIN} --root ${t.root} build ${ctx}; echo EXIT=$? > ${done}`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '30', cmd + '; sleep 30']);
  for (let i = 0; i < 300; i++) {
    try { execFileSync('test', ['-s', done]); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  expect(screen).toMatch(/✔ \[2\/3\] RUN echo one > \/one\s+CACHED/);
  expect(screen).toMatch(/✔ \[3\/3\] RUN sleep 1 && echo three > \/three\s+\d+\.\d+s/);
  expect(screen).toMatch(/✔ built [0-9a-f]{12} in \d+\.\d+s/);
  expect(screen).toMatch(/^sha256:[0-9a-f]{64}$/m);
});
