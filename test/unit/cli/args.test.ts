import { describe, expect, test } from 'vitest';
import { parseKeyValues } from '../../../src/cli/args.ts';

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
