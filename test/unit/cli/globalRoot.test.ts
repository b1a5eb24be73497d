import { describe, expect, test } from 'vitest';
import { takeCommandRoot, takeGlobalRoot, takeLeadingRoot } from '../../../src/cli/globalRoot.ts';
import { withOptions } from '../../../src/cli/args.ts';
import type { Command } from '../../../src/cli/context.ts';

const RUN = { name: { type: 'string' }, rm: { type: 'boolean' }, env: { type: 'string', short: 'e' }, tty: { type: 'boolean', short: 't' } } as const;
const BUILD = { tag: { type: 'string', short: 't' }, file: { type: 'string', short: 'f' }, 'no-cache': { type: 'boolean' } } as const;
const noop = async () => 0;

describe('takeGlobalRoot: --root before the command word', () => {
  test.each([
    [['--root', 'D', 'build', '.'], 'D', ['build', '.']],
    [['--root=D', 'images'], 'D', ['images']],
    [['--root', 'A', '--root', 'B', 'ps'], 'B', ['ps']], // the last one wins
    [['build', '--root', 'D'], undefined, ['build', '--root', 'D']], // after the word: the command's business
    [['-f', 'Buildfile', '--root', 'D', '.'], undefined, ['-f', 'Buildfile', '--root', 'D', '.']], // implicit build: its options
  ])('%j', (argv, root, rest) => {
    expect(takeGlobalRoot(argv)).toEqual({ root, rest });
  });

  test('--root with no directory is a usage error', () => {
    expect(() => takeGlobalRoot(['--root'])).toThrow('--root needs a directory');
  });
});

describe('takeLeadingRoot: --root among a command\'s options before its first argument', () => {
  test.each([
    // run: options end at IMAGE; the container command's --root is its own
    [RUN, ['busybox', 'cmd', '--root', 'x'], undefined, ['busybox', 'cmd', '--root', 'x']],
    [RUN, ['--rm', 'busybox', '--root', 'x'], undefined, ['--rm', 'busybox', '--root', 'x']], // --rm takes no value: busybox is IMAGE
    [RUN, ['--root', 'D', '--rm', 'busybox', 'cmd', '--root', 'x'], 'D', ['--rm', 'busybox', 'cmd', '--root', 'x']],
    [RUN, ['-e', '--root', 'busybox'], undefined, ['-e', '--root', 'busybox']], // -e's value, not an option
    [RUN, ['--name', 'c', '--root=D', 'img'], 'D', ['--name', 'c', 'img']],
    [RUN, ['-t', '--', '--root', 'x'], undefined, ['-t', '--', '--root', 'x']], // after --, nothing is ours
    // build: an option's value is not its first argument
    [BUILD, ['-t', 'x', '--root', 'D', '.'], 'D', ['-t', 'x', '.']],
    [BUILD, ['-tx', '--root', 'D', '.'], 'D', ['-tx', '.']], // -tx is -t x
    [BUILD, ['-ft', 'x', '--root', 'D'], undefined, ['-ft', 'x', '--root', 'D']], // -ft is -f t: x is CONTEXT
    [BUILD, ['.', '--root', 'D'], undefined, ['.', '--root', 'D']], // after CONTEXT: build's parser rejects it
    // no spec: every option is a flag
    [undefined, ['-a', '--root', 'D', 'x'], 'D', ['-a', 'x']],
  ])('%j %j', (spec, argv, root, rest) => {
    expect(takeLeadingRoot(argv, spec)).toEqual({ root, rest });
  });
});

describe('takeCommandRoot: a group\'s subcommand options count too', () => {
  const run = withOptions(RUN, noop);
  const group: Command = Object.assign(noop, { options: { help: { type: 'boolean', short: 'h' } } as const, subcommands: { run: async () => run } });

  test.each([
    [['run', '--root', 'D', 'img', 'cmd', '--root', 'x'], 'D', ['run', 'img', 'cmd', '--root', 'x']],
    [['--root', 'A', 'run', 'img', '--root', 'x'], 'A', ['run', 'img', '--root', 'x']],
    [['--root', 'A', 'run', '--root', 'B', 'img'], 'B', ['run', 'img']],
    [['nosuch', '--root', 'x'], undefined, ['nosuch', '--root', 'x']],
  ])('%j', async (argv, root, rest) => {
    expect(await takeCommandRoot(group, argv)).toEqual({ root, rest });
  });
});

test('every command declares its options, so main finds --root among them', async () => {
  const { readdirSync } = await import('node:fs');
  const dir = new URL('../../../src/cli/commands/', import.meta.url);
  const missing: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const mod = (await import(new URL(f, dir).href)) as Record<string, unknown>;
    for (const [name, v] of Object.entries(mod)) {
      if (name.endsWith('Command') && name !== 'groupCommand' && typeof v === 'function' && !(v as Command).options) missing.push(`${f}: ${name}`);
    }
  }
  expect(missing).toEqual([]);
});
