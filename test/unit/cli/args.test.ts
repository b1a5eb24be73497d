import { describe, expect, test } from 'vitest';
import { parseCommandArgs, parseKeyValues } from '../../../src/cli/args.ts';

describe('parseKeyValues (-e, --build-arg)', () => {
  const env = { FROM_ENV: 'env value', EMPTY: '', WITH_EQ: 'a=b' };

  test('K=V sets, K alone copies K from the environment, an unset K is dropped (as docker run -e)', () => {
    const got = parseKeyValues(['A=1', 'FROM_ENV', 'EMPTY', 'WITH_EQ', 'NOT_SET', 'B=', 'C=x=y'], env, 'environment variable');
    expect([...got]).toEqual([
      ['A', '1'],
      ['FROM_ENV', 'env value'],
      ['EMPTY', ''], // set but empty is still set
      ['WITH_EQ', 'a=b'],
      ['B', ''],
      ['C', 'x=y'], // only the first = splits
    ]);
    expect(got.has('NOT_SET')).toBe(false);
  });

  test('a later value of the same name wins; an unset K does not remove an earlier K=V', () => {
    expect([...parseKeyValues(['A=1', 'A=2'], env, 'x')]).toEqual([['A', '2']]);
    expect([...parseKeyValues(['NOT_SET=kept', 'NOT_SET'], env, 'x')]).toEqual([['NOT_SET', 'kept']]);
    expect([...parseKeyValues(['FROM_ENV=mine', 'FROM_ENV'], env, 'x')]).toEqual([['FROM_ENV', 'env value']]);
  });

  test('no values give an empty map', () => {
    expect(parseKeyValues(undefined, env, 'x').size).toBe(0);
  });

  test.each([
    ['=V'], // empty name with a value
    ['='], // empty name and value
  ])('%j is refused with USAGE naming what it is', (kv) => {
    expect(() => parseKeyValues([kv], env, 'environment variable')).toThrow(expect.objectContaining({
      code: 'USAGE',
      message: `invalid environment variable "${kv}": empty name`,
    }));
  });
});

describe('parseCommandArgs', () => {
  const OPTS = { tag: { type: 'string', short: 't', multiple: true }, 'no-cache': { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } } as const;

  test.each([
    // each: argv, the no-cache value (as docker reads --flag=VALUE)
    [['--no-cache'], true],
    [['--no-cache=true'], true],
    [['--no-cache=1'], true],
    [['--no-cache=false'], undefined],
    [['--no-cache=FALSE'], undefined],
    [['--no-cache=0', '--no-cache'], true],
    [[], undefined],
  ])('%j', (argv, value) => {
    expect(parseCommandArgs('build', [...argv, '-t', 'x', 'ctx'], OPTS)).toEqual({ values: { tag: ['x'], ...(value ? { 'no-cache': value } : {}) }, positionals: ['ctx'] });
  });

  test('an empty argument stays a positional', () => {
    expect(parseCommandArgs('build', ['--no-cache=false', ''], OPTS).positionals).toEqual(['']);
  });

  test('a mistake names the command as typed, and suggests', () => {
    expect(() => parseCommandArgs('image ls', ['--quite'], OPTS)).toThrow(expect.objectContaining({ code: 'USAGE', message: 'image ls: unknown flag --quite (did you mean --quiet?)', hint: "run 'tsbuild image ls --help'" }));
    expect(() => parseCommandArgs('x', ['-qz'], OPTS)).toThrow('x: unknown flag -z');
  });
});
