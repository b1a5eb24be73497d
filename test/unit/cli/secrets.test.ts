import { describe, expect, test } from 'vitest';
import { resolve } from 'node:path';
import { parseSecrets } from '../../../src/cli/secrets.ts';

describe('parseSecrets (--secret)', () => {
  test('src, source, env and the id fallbacks', () => {
    const env = { TOKEN: 't0k', npmrc: 'from-env' };
    const got = parseSecrets(['id=a,src=/run/a.txt', 'id=b,source=rel/b', 'id=c,env=TOKEN', 'id=TOKEN,type=env', 'id=npmrc', 'id=file-named-id'], env);
    expect([...got]).toEqual([
      ['a', { path: '/run/a.txt' }],
      ['b', { path: resolve('rel/b') }],
      ['c', { value: 't0k' }],
      ['TOKEN', { value: 't0k' }],
      ['npmrc', { value: 'from-env' }],
      ['file-named-id', { path: resolve('file-named-id') }],
    ]);
  });

  test.each([
    ['src=/x', /id= is required/], // no id
    ['id=a,nonsense', /invalid --secret/], // a field without =
    ['id=a,env=UNSET_VAR', /UNSET_VAR is not set/], // env var missing
  ])('%s is refused', (flag, msg) => {
    expect(() => parseSecrets([flag], {})).toThrow(msg);
  });
});
