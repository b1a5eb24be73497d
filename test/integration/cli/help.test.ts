import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO, ok } from '../../helpers/cli.ts';

/** commandsOf reads the command names from `tsbuild --help` (the "Commands:" list). */
function commandsOf(usage: string): string[] {
  return [...usage.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
}

/**
 * mentioned lists the `tsbuild WORD` commands a text refers to (options such as
 * --root skipped); in prose (markdown) only code spans and `$ ` lines count.
 */
function mentioned(text: string, prose = false): string[] {
  const re = prose ? /(?:`|^\$ )tsbuild ([a-z]+)\b/gm : /\btsbuild ([a-z]+)\b/g;
  return [...new Set([...text.matchAll(re)].map((m) => m[1]!))];
}

describe('help and docs name only commands that exist', () => {
  test('every command of tsbuild --help has a --help that names only existing commands', async () => {
    const commands = commandsOf((await ok(['--help'])).stdout);
    expect(commands).toEqual(expect.arrayContaining(['build', 'run', 'commit', 'rmi', 'images', 'container', 'image']));
    for (const c of commands) {
      const help = (await ok([c, '--help'])).stdout;
      expect({ command: c, unknown: mentioned(help).filter((m) => !commands.includes(m)) }).toEqual({ command: c, unknown: [] });
    }
  });

  test('docs/CONTAINERS.md names only existing commands', async () => {
    const commands = commandsOf((await ok(['--help'])).stdout);
    const doc = readFileSync(join(REPO, 'docs/CONTAINERS.md'), 'utf8');
    expect(mentioned(doc, true)).toEqual(expect.arrayContaining(['run', 'rm']));
    expect(mentioned(doc, true).filter((m) => !commands.includes(m))).toEqual([]);
  });
});

describe('every help says how to use the command', () => {
  /** helpsOf lists every command's help text: the top-level ones and each group's commands. */
  async function helpsOf(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const c of [...commandsOf((await ok(['--help'])).stdout), 'logout']) {
      out.set(c, (await ok([c, '--help'])).stdout);
      if (c !== 'container' && c !== 'image') continue;
      const subs = out.get(c)!.split('\nCommands:\n')[1]!.split('\n\n')[0]!.split('\n').map((l) => l.trim().split(/[ ,]/)[0]!);
      for (const sub of subs) out.set(`${c} ${sub}`, (await ok([c, sub, '--help'])).stdout);
    }
    return out;
  }

  test('each has two or three examples, each an existing command', async () => {
    const helps = await helpsOf();
    expect([...helps.keys()]).toEqual(expect.arrayContaining(['build', 'container run', 'container start', 'image ls', 'logout']));
    for (const [c, help] of helps) {
      const examples = help.split('\nExamples:\n')[1]?.split('\n\n')[0]?.trimEnd().split('\n') ?? [];
      expect({ c, n: examples.length }).toEqual({ c, n: expect.toSatisfy((n: number) => n >= 2 && n <= 3) });
      for (const e of examples) expect(e, c).toMatch(/^ {2}(\S.*\| )?tsbuild /);
    }
  });

  test('options that have a default state it', async () => {
    const build = (await ok(['build', '--help'])).stdout;
    expect(build).toMatch(/--progress MODE +auto \(default: tty on a terminal, else plain\)/);
    expect(build).toMatch(/--network MODE +host \(default\)/);
    expect(build).toMatch(/--no-cache\[=BOOL\] .*\(default: false\)/);
    expect((await ok(['ps', '--help'])).stdout).toMatch(/-a, --all .*\(default: running only\)/);
    expect((await ok(['--help'])).stdout).toMatch(/--root DIR .*\(default: \$TSBUILD_ROOT/);
  });

  test('tsbuild help COMMAND is COMMAND --help; help of a group command too', async () => {
    expect((await ok(['help', 'build'])).stdout).toBe((await ok(['build', '--help'])).stdout);
    expect((await ok(['help', 'container', 'start'])).stdout).toBe((await ok(['container', 'start', '--help'])).stdout);
    expect((await ok(['container', 'help', 'ls'])).stdout).toBe((await ok(['ps', '--help'])).stdout);
    expect((await ok(['help'])).stdout).toBe((await ok(['--help'])).stdout);
  });

  test('container and image alone list their commands, each with what it does, and exit 0', async () => {
    const container = await ok(['container']);
    expect(container.stdout).toMatch(/^ {2}run +run a command in a new container from an image$/m);
    expect(container.stdout).toMatch(/^ {2}ls, list, ps +list containers$/m);
    expect(container.stdout).toMatch(/^ {2}start +start a stopped container again$/m);
    const image = await ok(['image']);
    expect(image.stdout).toMatch(/^ {2}ls, list +list images$/m);
    expect(image.stdout).toMatch(/^ {2}history +show the history of an image$/m);
    for (const help of [container.stdout, image.stdout]) {
      const commands = help.split('\nCommands:\n')[1]!.split('\n\n')[0]!.split('\n');
      for (const l of commands) expect(l).toMatch(/^ {2}[a-z, ]+ {2,}\S/);
    }
  });
});
