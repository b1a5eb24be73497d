import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import stringWidth from 'string-width';
import { ok } from '../../helpers/cli.ts';
import { busyboxSuite } from '../../helpers/image.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { hasTmux, TmuxTerminal } from '../../helpers/tmux.ts';

// What a user sees on a terminal: tsbuild runs in tmux (a real pseudo-terminal) and the test
// reads the screen, with its colours where they matter.

const suite = busyboxSuite({ beforeAll, afterAll });
let term: TmuxTerminal | undefined;
afterEach(() => term?.close());

/**
 * sgr lists the SGR parameters in force where text first shows on the line of a screen (captured
 * with colours) that contains `line` (tmux writes the sequences its own way).
 */
function sgr(screen: string, line: string, text: string): string[] {
  const l = screen.split('\n').find((x) => x.includes(line)) ?? '';
  const at = l.indexOf(text);
  expect(at, `${text} on the line with ${line}:\n${screen}`).toBeGreaterThanOrEqual(0);
  const before = /(?:\x1b\[[0-9;]*m)*$/.exec(l.slice(0, at))![0];
  return [...before.matchAll(/\x1b\[([0-9;]*)m/g)].flatMap((m) => m[1]!.split(';'));
}

function terminal(cols = 100, rows = 40): TmuxTerminal {
  return (term = new TmuxTerminal(cols, rows));
}

/** APT prints as apt does through a pseudo-terminal: lines ending in \r\n, a progress line redrawn with \r. */
const APT = (tag: string) => `FROM busybox
RUN printf 'Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]\\r\\nGet:2 http://deb.debian.org/debian bookworm/main amd64 Packages [8792 kB]\\r\\n' && printf '\\rDownloading 10%%' && sleep 0.2 && printf '\\rDownloading 55%%' && sleep 2 && printf '\\rDownloading 100%%\\r\\nFetched 8943 kB in 2s (${tag})\\r\\n'
`;

describe.runIf(isRoot && hasTmux())('the build on a terminal', () => {
  test('finished steps with times and CACHED marks, and the image id', async () => {
    const { root } = suite.t;
    await ok(['--root', root, 'build', '--progress=quiet', suite.ctx({ Buildfile: 'FROM busybox\nRUN echo one > /one\n' })]);
    const t = terminal(120, 30);
    t.tsbuild(['--root', root, 'build', suite.ctx({ Buildfile: 'FROM busybox\nRUN echo one > /one\nRUN sleep 1 && echo three > /three\n' })]);
    const { code, screen } = await t.exited();
    expect(code).toBe(0);
    expect(screen).toMatch(/✔ \[2\/3\] RUN echo one > \/one\s+CACHED/);
    expect(screen).toMatch(/✔ \[3\/3\] RUN sleep 1 && echo three > \/three\s+\d+\.\d+s/);
    expect(screen).toMatch(/✔ built [0-9a-f]{12} in \d+\.\d+s/);
    expect(screen).toMatch(/^sha256:[0-9a-f]{64}$/m);
  });

  test("apt's \\r\\n lines show line by line under the running step, and a redrawn line in its latest state", async () => {
    const t = terminal();
    t.tsbuild(['--root', suite.t.root, 'build', suite.ctx({ Buildfile: APT('tty') })]);
    const running = await t.waitFor(/│ Downloading 55%$/m);
    expect(running).toMatch(/^ {4}│ Get:1 http:\/\/deb\.debian\.org\/debian bookworm InRelease \[151 kB\]$/m);
    expect(running).toMatch(/^ {4}│ Get:2 http:\/\/deb\.debian\.org\/debian bookworm\/main amd64 Packages \[8792 kB\]$/m);
    expect(running).not.toMatch(/Downloading 10%/);
    const { code, screen } = await t.exited();
    expect(code).toBe(0);
    expect(screen).toMatch(/^✔ \[2\/2\] RUN printf .*\d\.\d\ds$/m);
  });

  test("apt's \\r\\n lines show line by line in plain mode too", async () => {
    const t = terminal(200);
    t.tsbuild(['--root', suite.t.root, 'build', '--progress=plain', suite.ctx({ Buildfile: APT('plain') })]);
    const { code, screen } = await t.exited();
    expect(code).toBe(0);
    expect(screen.split('\n').filter((l) => l.includes('[2/2] | ')).map((l) => l.replace(/^ +\d+\.\d\ds /, ''))).toEqual([
      '[2/2] | Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]',
      '[2/2] | Get:2 http://deb.debian.org/debian bookworm/main amd64 Packages [8792 kB]',
      '[2/2] | Downloading 100%',
      '[2/2] | Fetched 8943 kB in 2s (plain)',
    ]);
  });

  test('in a narrow terminal every line fits: the step text is cut, its timer never; a finished step never shows twice', async () => {
    const t = terminal(50, 30);
    const ctx = suite.ctx({
      Buildfile: [
        'FROM busybox AS fast',
        'RUN echo a quick step in its own stage && echo output of the quick step',
        'FROM busybox',
        'RUN for i in 1 2 3 4 5 6 7 8; do echo "a long line of output that is wider than the terminal $i"; sleep 0.2; done',
        'COPY --from=fast /etc/passwd /passwd',
        '',
      ].join('\n'),
    });
    t.tsbuild(['--root', suite.t.root, 'build', ctx]);
    const frames = await t.samples();
    const running = frames.filter((f) => /RUN for i in/.test(f) && !/✔ \[[^\]]*\] RUN for i in/.test(f));
    expect(running.length).toBeGreaterThan(0);
    for (const f of running) {
      const line = f.split('\n').find((l) => l.includes('RUN for i in'))!;
      expect(line).toMatch(/…  \d+\.\d\ds$/);
    }
    for (const f of frames) {
      // Each step is on the screen at most once: a finished one is not also in the spinner.
      for (const step of ['RUN echo a quick', 'RUN for i in']) expect(f.split(step).length - 1, f).toBeLessThanOrEqual(1);
    }
    const { code } = await t.exited();
    expect(code).toBe(0);
    // The image id on stdout is no progress line; everything else fits.
    for (const l of t.screen({ join: true }).split('\n').filter((x) => !x.startsWith('sha256:'))) expect(stringWidth(l), l).toBeLessThan(50);
  });

  test('with TERM=dumb the output is plain lines', async () => {
    const t = terminal();
    t.tsbuild(['--root', suite.t.root, 'build', suite.ctx({ Buildfile: 'FROM busybox\nRUN echo dumb-terminal\n' })], { TERM: 'dumb' });
    const { code, screen } = await t.exited({ colors: true });
    expect(code).toBe(0);
    expect(screen).toMatch(/^ +\d+\.\d\ds \[2\/2\] \| dumb-terminal$/m);
    expect(screen).not.toMatch(/[✔⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|\x1b/);
  });

  test('colours: a green ✔, a dim CACHED, a red ✖ and error:; none with NO_COLOR', async () => {
    const { root } = suite.t;
    const ctx = suite.ctx({ Buildfile: 'FROM busybox\nRUN echo cached\nRUN echo fails && exit 3\n' });
    await ok(['--root', root, 'build', '--progress=quiet', suite.ctx({ Buildfile: 'FROM busybox\nRUN echo cached\n' })]);
    let t = terminal();
    t.tsbuild(['--root', root, 'build', ctx]);
    let r = await t.exited({ colors: true });
    expect(r.code).toBe(1);
    expect(sgr(r.screen, 'RUN echo cached', '✔')).toContain('32'); // green
    expect(sgr(r.screen, 'RUN echo cached', 'CACHED')).toContain('2'); // dim
    expect(sgr(r.screen, 'RUN echo fails', '✖')).toEqual(expect.arrayContaining(['1', '31'])); // bold red
    expect(sgr(r.screen, 'Buildfile:3:1', 'error:')).toEqual(expect.arrayContaining(['1', '31']));
    t.close();
    t = terminal();
    t.tsbuild(['--root', root, 'build', ctx], { NO_COLOR: '1' });
    r = await t.exited({ colors: true });
    expect(r.screen).toMatch(/✖ \[3\/3\] RUN echo fails/);
    expect(r.screen).not.toMatch(/\x1b/);
  });

  test('a failing step shows its last lines and how to see all of them; the error is printed once', async () => {
    const t = terminal(100, 50);
    t.tsbuild(['--root', suite.t.root, 'build', suite.ctx({ Buildfile: 'FROM busybox\nRUN for i in $(seq 1 30); do echo line $i; done; echo bad >&2; exit 3\n' })]);
    const { code, screen } = await t.exited({ join: true });
    expect(code).toBe(1);
    const lines = screen.split('\n');
    const at = lines.findIndex((l) => l.startsWith('✖ [2/2] RUN for i in'));
    expect(lines.slice(at + 1, at + 3)).toEqual(['    … 11 earlier lines; --progress=plain shows all of the output', '    │ line 12']);
    expect(lines.slice(at + 20, at + 22)).toEqual(['    │ line 30', '    │ bad']);
    expect(screen.split('exit code: 3').length - 1).toBe(1);
    expect(lines[at + 22]).toMatch(/^error: \S+Buildfile:2:1: .*exit code: 3$/);
  });
});

test('FORCE_COLOR colours output to a pipe; without it a pipe gets none', async () => {
  const { root } = suite.t;
  const ctx = suite.ctx({ Buildfile: 'FROM busybox\nRUN echo piped\n' });
  await ok(['--root', root, 'build', '--progress=quiet', ctx]);
  expect((await ok(['--root', root, 'build', ctx], { env: { FORCE_COLOR: '1' } })).stderr).toMatch(/RUN echo piped  \x1b\[2mCACHED\x1b\[22m/);
  expect((await ok(['--root', root, 'build', ctx], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stderr).toMatch(/\x1b\[2mCACHED/);
  expect((await ok(['--root', root, 'build', ctx], { env: { FORCE_COLOR: '0' } })).stderr).not.toMatch(/\x1b/);
  expect((await ok(['--root', root, 'build', ctx])).stderr).not.toMatch(/\x1b/);
});

test('--progress=tty where lines cannot be redrawn (a pipe) is plain lines', async () => {
  const { root } = suite.t;
  const r = await ok(['--root', root, 'build', '--progress=tty', suite.ctx({ Buildfile: 'FROM busybox\nRUN echo to-a-pipe\n' })]);
  expect(r.stderr).toMatch(/^ +\d+\.\d\ds \[2\/2\] \| to-a-pipe$/m);
  expect(r.stderr).not.toMatch(/\x1b|✔/);
});
