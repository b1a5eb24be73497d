import { afterAll, beforeAll, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { BIN, ok } from '../../helpers/cli.ts';
import { busyboxSuite } from '../../helpers/image.ts';

// --progress auto (the default) shows the spinner only on a terminal outside CI;
// otherwise plain timestamped lines with the RUN's own output, no control characters.

const suite = busyboxSuite({ beforeAll, afterAll });
const BUILDFILE = (tag: string) => `FROM busybox\nRUN echo "out ${tag}" && echo "err ${tag}" >&2\n`;
const PLAIN_LINE = /^ +\d+\.\d\ds \[\d\/\d\] /;

function expectPlain(text: string, tag: string): void {
  expect(text).not.toMatch(/\x1b/);
  expect(text).not.toContain('✔');
  const lines = text.replace(/\r/g, '').split('\n').filter((l) => PLAIN_LINE.test(l));
  expect(lines.length).toBeGreaterThanOrEqual(3);
  expect(lines.some((l) => l.endsWith(`[2/2] | out ${tag}`))).toBe(true);
  expect(lines.some((l) => l.endsWith(`[2/2] | err ${tag}`))).toBe(true);
}

/** onTerminal runs tsbuild on a pseudo-terminal (util-linux script) and returns what the terminal got. */
function onTerminal(args: string[], env: Record<string, string>, size = 'cols 120 rows 30'): string {
  const cmd = `stty ${size}; ` + [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI')) as Record<string, string>;
  return execFileSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, env: { ...clean, TERM: 'xterm', ...env } });
}

test('without a terminal, --progress auto and the default are plain, with the RUN output', async () => {
  const { root } = suite.t;
  for (const [tag, flags] of [['auto', ['--progress', 'auto']], ['default', []]] as const) {
    const ctx = suite.ctx({ Buildfile: BUILDFILE(tag) });
    const r = await ok(['--root', root, 'build', ...flags, ctx], { env: { CI: '' } });
    expectPlain(r.stderr, tag);
  }
});

test('on a terminal, CI=true makes --progress auto plain; without CI it is the spinner', () => {
  const { root } = suite.t;
  const ci = onTerminal(['--root', root, 'build', '--progress', 'auto', suite.ctx({ Buildfile: BUILDFILE('ci') })], { CI: 'true' });
  expectPlain(ci, 'ci');
  const tty = onTerminal(['--root', root, 'build', '--progress', 'auto', suite.ctx({ Buildfile: BUILDFILE('tty') })], {});
  expect(tty).toMatch(/\x1b\[/);
  expect(tty).toMatch(/✔(\x1b\[39m)? \[2\/2\] RUN echo "out tty"/); // green
});

test('a terminal of no size (a pty nobody set up) gets plain lines instead of a spinner that never ends', () => {
  const { root } = suite.t;
  const out = onTerminal(['--root', root, 'build', suite.ctx({ Buildfile: BUILDFILE('nosize') })], {}, 'cols 0 rows 0');
  expectPlain(out, 'nosize');
});
