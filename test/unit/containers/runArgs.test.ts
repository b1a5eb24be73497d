import { describe, expect, test } from 'vitest';
import { splitAtImage } from '../../../src/cli/commands/run.ts';

const OPTS = {
  name: { type: 'string' },
  tty: { type: 'boolean', short: 't' },
  interactive: { type: 'boolean', short: 'i' },
  env: { type: 'string', short: 'e' },
  workdir: { type: 'string', short: 'w' },
} as const;

describe('splitAtImage: run\'s options end at IMAGE; the command after it is never ours', () => {
  test.each([
    [['busybox', 'ls', '-la'], [], ['busybox', 'ls', '-la']],
    [['-ti', 'busybox', 'sh'], ['-ti'], ['busybox', 'sh']],
    [['--name', 'x', '-e', 'A=1', 'img', '-e', 'B'], ['--name', 'x', '-e', 'A=1'], ['img', '-e', 'B']],
    [['--name=x', '-eA=1', 'img'], ['--name=x', '-eA=1'], ['img']],
    [['-tie', 'A=1', 'img'], ['-tie', 'A=1'], ['img']], // a value-taking letter last in a cluster takes the next argument
    [['-w', '/w', '--', '-img-'], ['-w', '/w'], ['-img-']],
    [['-t'], ['-t'], []],
  ])('%j', (argv, opts, rest) => {
    expect(splitAtImage(argv, OPTS)).toEqual({ opts, rest });
  });
});
