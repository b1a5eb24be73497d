import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsbuild } from '../../helpers/cli.ts';
import { rawTar } from '../context/rawTar.ts';

/**
 * An error that quotes user input stays one line (plus its hint): control characters, line
 * and paragraph separators and bidi controls come out escaped as Go's %q writes them, so no
 * terminal control sequence from a Buildfile, an argument or the context reaches the terminal.
 */

// Everything a terminal or a reader could take for something else than text on one line.
// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'tsbuild-errlines-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** expectOneLine checks stderr is exactly `error: <want>` plus, if given, one hint line. */
function expectOneLine(r: { code: number; stderr: string }, want: string, hint?: string): void {
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(RAW);
  expect(r.stderr).toBe(`error: ${want}\n${hint === undefined ? '' : `  hint: ${hint}\n`}`);
}

async function parse(text: string) {
  writeFileSync(join(dir, 'f'), text);
  return tsbuild(['parse', '-f', 'f'], { cwd: dir });
}

describe('errors quoting user input are one line', () => {
  test('a carriage return in a directive', async () => {
    expectOneLine(await parse('# escape=a\rb\nFROM busybox\n'), "f:1:1: invalid escape token 'a\\rb' does not match ` or \\");
  });

  test('an escape sequence as the escape directive', async () => {
    expectOneLine(await parse('# escape=\x1b[31m\nFROM busybox\n'), "f:1:1: invalid escape token '\\x1b[31m' does not match ` or \\");
  });

  test.each([
    ['FR\x1b[2JOM x', 'FR\\x1b[2JOM'], // CSI: clear the screen
    ['FR\u009bOM x', 'FR\\u009bOM (did you mean FROM?)'], // the one-character CSI
    ['FR\u202eOM x', 'FR\\u202eOM (did you mean FROM?)'], // right-to-left override
    ['FR\u2028OM x', 'FR\\u2028OM (did you mean FROM?)'], // line separator
    ['FR\u00a0OM x', 'FR\\u00a0OM (did you mean FROM?)'], // no-break space
  ])('an unknown instruction: %j', async (line, shown) => {
    expectOneLine(await parse(`FROM busybox\n${line}\n`), `f:2:1: unknown instruction: ${shown}`);
  });

  test('a bad flag value', async () => {
    expectOneLine(await parse('FROM busybox\nCOPY --link=\x1b]0;pwned\x07 a b\n'), 'f:2:6: expecting boolean value for flag --link, not: \\x1b]0;pwned\\a');
  });

  test('a bad --build-arg', async () => {
    writeFileSync(join(dir, 'Buildfile'), 'FROM scratch\n');
    const r = await tsbuild(['--root', join(dir, 'root'), 'build', '--progress=quiet', '--build-arg', '=\x1b[1m\n', '.'], { cwd: dir });
    expectOneLine(r, 'invalid build-arg "=\\x1b[1m\\n": empty name');
  });

  test('a build arg value quoted by a later error', async () => {
    writeFileSync(join(dir, 'Buildfile'), 'ARG V\nFROM $V\n');
    const r = await tsbuild(['--root', join(dir, 'root'), 'build', '--progress=quiet', '--build-arg', 'V=bu\rsy\x1b[2J', '.'], { cwd: dir });
    expectOneLine(r, 'Buildfile:2:1: invalid reference "bu\\rsy\\x1b[2J": contains white space', 'references look like name[:tag] or name@sha256:<64 hex>, e.g. app:1, localhost:5000/team/app:v2');
  });

  test('a file name given on the command line', async () => {
    const r = await tsbuild(['--root', join(dir, 'root'), 'build', '--progress=quiet', '-f', 'no\tsuch\x1b[2J', '.'], { cwd: dir });
    expectOneLine(r, `${join(dir, 'no\\tsuch\\x1b[2J')}: cannot read Buildfile`);
  });

  test('a path from the context (an archive entry), in the error and in the progress lines', async () => {
    const ctx = join(dir, 'ctx-archive');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Buildfile'), 'FROM scratch\nADD evil.tar /x/\n');
    writeFileSync(join(ctx, 'evil.tar'), rawTar([{ name: 'a\x1b[2J\nb', type: 'symlink', linkname: '../../etc' }]));
    const q = await tsbuild(['--root', join(dir, 'root'), 'build', '--progress=quiet', '.'], { cwd: ctx });
    expectOneLine(q, 'Buildfile:2:1: ADD evil.tar: archive symlink "a\\x1b[2J\\nb" -> "../../etc" points outside the destination');
    const p = await tsbuild(['--root', join(dir, 'root'), 'build', '--progress=plain', '.'], { cwd: ctx });
    expect(p.code).toBe(1);
    expect(p.stderr).not.toMatch(RAW);
    expect(p.stderr).toContain('ERROR: ADD evil.tar: archive symlink "a\\x1b[2J\\nb"');
  });

  test('a step line quoting the instruction (plain progress)', async () => {
    const ctx = join(dir, 'ctx-step');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Buildfile'), 'FROM scratch\nCOPY no\x1b[31mpe /x\n');
    const p = await tsbuild(['--root', join(dir, 'root'), 'build', '--progress=plain', '.'], { cwd: ctx });
    expect(p.code).toBe(1);
    expect(p.stderr).not.toMatch(RAW);
    expect(p.stderr).toContain('[2/2] COPY no\\x1b[31mpe /x');
  });
});
