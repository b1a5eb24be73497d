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
