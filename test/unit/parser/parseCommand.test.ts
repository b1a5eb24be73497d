import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/cli/commands/parse.ts';
import type { CliContext } from '../../../src/cli/context.ts';
import { TsbuildError } from '../../../src/core/errors.ts';
import { renderError } from '../../../src/ui/renderError.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-parse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ctx = {
    root: dir,
    env: {},
    stdout: { write: (s: string) => { out += s; return true; } },
    stderr: { write: (s: string) => { err += s; return true; } },
    stdin: Readable.from([Buffer.from(stdin)]),
    isTTY: false,
    signal: new AbortController().signal,
  } as unknown as CliContext;
  try {
    return { code: await parseCommand(argv, ctx), out, err };
  } catch (e) {
    return { code: e instanceof TsbuildError ? e.exitCode : 99, out, err: err + renderError(e) + '\n' };
  }
}

describe('tsbuild parse', () => {
  it('prints a one-line summary and warnings on stderr', async () => {
    const p = file('ok', 'FROM a AS b\nRUN x \\\n\n y\nFROM c\nCOPY --from=b / /\n');
    const r = await run(['-f', p]);
    expect(r).toEqual({ code: 0, out: `${p}: 4 instructions, 2 stages\n`, err: `warning: ${p}:2:1: Empty continuation line found in: RUN x  y\n` });
  });

  it('--dump prints the reference format, without instruction-level checks', async () => {
    const p = file('dump', 'FROM a\nCOPY --bogus=1 x y\nONBUILD RUN ["a"]\n');
    expect(await run(['--dump', '-f', p])).toEqual({ code: 0, out: '(from "a")\n(copy ["--bogus=1"] "x" "y")\n(onbuild (run "a"))\n', err: '' });
  });

  it('--json prints instructions with ranges', async () => {
    const p = file('json', 'FROM a\n');
    const r = await run(['--json', '--file', p]);
    expect(JSON.parse(r.out)).toMatchObject({ directives: { escape: '\\' }, warnings: [], instructions: [{ kind: 'FROM', image: 'a', range: { file: p, startLine: 1, startCol: 1 } }] });
  });

  it('-f - reads stdin', async () => {
    expect((await run(['-f', '-'], 'FROM a\nUSER me\n')).out).toBe('<stdin>: 2 instructions, 1 stage\n');
  });

  it('a bad Buildfile is one located error line and exit 1', async () => {
    const p = file('bad', 'FROM a\nCOPY --nope x y\n');
    expect(await run(['-f', p])).toEqual({ code: 1, out: '', err: `error: ${p}:2:6: unknown flag: --nope\n` });
    expect((await run(['-f', '-'], '')).err).toBe('error: <stdin>:1:1: file with no instructions\n');
  });

  it('a missing file, a bad option, or --dump with --json is a usage error', async () => {
    expect((await run(['-f', join(dir, 'nope')])).err).toBe(`error: ${join(dir, 'nope')}: no such file\n`);
    expect((await run(['--frob'])).code).toBe(1);
    expect((await run(['--dump', '--json'])).err).toMatch(/cannot be used together/);
  });

  it('defaults to ./Buildfile, then ./Dockerfile', async () => {
    const cwd = process.cwd();
    const sub = mkdtempSync(join(dir, 'cwd-'));
    try {
      process.chdir(sub);
      expect((await run([])).err).toMatch(/Buildfile: no such file \(and no Dockerfile either\)/);
      writeFileSync(join(sub, 'Dockerfile'), 'FROM d\n');
      expect((await run([])).out).toBe('Dockerfile: 1 instruction, 1 stage\n');
      writeFileSync(join(sub, 'Buildfile'), 'FROM b\nFROM c\n');
      expect((await run([])).out).toBe('Buildfile: 2 instructions, 2 stages\n');
    } finally {
      process.chdir(cwd);
    }
  });
});
