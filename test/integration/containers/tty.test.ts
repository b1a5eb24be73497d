import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasBusybox, isRoot } from '../../helpers/rootfs.ts';
import { makeHarness, type Harness } from './harness.ts';

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** tmux runs a tmux command on the private server named by socket. */
function tmux(socket: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

async function screenShows(socket: string, re: RegExp): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const screen = tmux(socket, 'capture-pane', '-p', '-t', 'tty');
    if (re.test(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`screen never matched ${re}:\n${screen}`);
    await sleep(50);
  }
}

// `run -ti` for real: a terminal (tmux) runs the CLI, keys are typed, the screen is read.
describe.runIf(isRoot && hasBusybox() && hasTmux)('run -ti in a terminal', () => {
  let h: Harness;
  const socket = `tsbuild-test-${process.pid}`;
  beforeAll(async () => { h = await makeHarness('tsbuild-tty-'); });
  afterAll(async () => {
    try { tmux(socket, 'kill-server'); } catch { /* already gone */ }
    await h?.cleanup();
  });

  test('an interactive shell: typed input runs, output shows, exit ends it with its status; its changes commit', async () => {
    const cmd = `${process.execPath} ${h.bin} --root ${h.t.root} run -ti --name term busybox sh; echo "tsbuild-exited=$?"; sleep 600`;
    tmux(socket, 'new-session', '-d', '-s', 'tty', '-x', '100', '-y', '30', cmd);
    await screenShows(socket, /^\/ #/m);
    tmux(socket, 'send-keys', '-t', 'tty', 'echo $((6*7)); tty; echo $TERM', 'Enter');
    const screen = await screenShows(socket, /^42$/m);
    expect(screen).toMatch(/^\/dev\/pts\/\d+$/m);
    expect(screen).toMatch(/^xterm$/m);
    tmux(socket, 'send-keys', '-t', 'tty', 'echo typed-in-a-terminal > /note; exit 5', 'Enter');
    await screenShows(socket, /^tsbuild-exited=5$/m);
    expect((await h.ok('ps', '-a', '--format', '{{.Names}} {{.Status}}')).stdout).toMatch(/^term Exited \(5\) /m);
    await h.ok('commit', '-m', 'from a terminal', 'term', 'term-img');
    expect((await h.ok('run', '--rm', 'term-img', 'cat', '/note')).stdout).toBe('typed-in-a-terminal\n');
  });

  test('Ctrl-C goes to the container\'s process, not to tsbuild', async () => {
    tmux(socket, 'kill-session', '-t', 'tty');
    const cmd = `${process.execPath} ${h.bin} --root ${h.t.root} run -ti --rm busybox sh; echo "tsbuild-exited=$?"; sleep 600`;
    tmux(socket, 'new-session', '-d', '-s', 'tty', '-x', '100', '-y', '30', cmd);
    await screenShows(socket, /^\/ #/m);
    tmux(socket, 'send-keys', '-t', 'tty', 'sleep 50', 'Enter');
    await sleep(300);
    tmux(socket, 'send-keys', '-t', 'tty', 'C-c');
    tmux(socket, 'send-keys', '-t', 'tty', 'echo still-here', 'Enter');
    await screenShows(socket, /^still-here$/m);
    tmux(socket, 'send-keys', '-t', 'tty', 'exit', 'Enter');
    await screenShows(socket, /^tsbuild-exited=0$/m);
  });
});
