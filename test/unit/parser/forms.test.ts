import { describe, expect, it } from 'vitest';
import { dump, failure, one } from './helpers.ts';

describe('exec (JSON) and shell forms', () => {
  it('a valid JSON string array is the exec form, with JSON escapes decoded', () => {
    expect(one('CMD ["a\\"b", "\\u00e9\\/", "\\t"]', 'CMD').cmd).toEqual({ form: 'exec', args: ['a"b', 'é/', '\t'] });
    expect(one('CMD \t[ "a" ,\t"b" ]  ', 'CMD').cmd).toEqual({ form: 'exec', args: ['a', 'b'] });
  });

  it.each([
    ["single quotes", "CMD ['a', 'b']", "['a', 'b']"],
    ['missing ]', 'CMD ["a", "b"', '["a", "b"'],
    ['unterminated string', 'CMD ["a, "b"]', '["a, "b"]'],
    ['text after ]', 'CMD ["a"] && b', '["a"] && b'],
    ['trailing comma', 'CMD ["a",]', '["a",]'],
    ['bad escape', 'CMD ["\\x41"]', '["\\x41"]'],
    ['raw control char', 'CMD ["a\tb"]', '["a\tb"]'],
    ['non-JSON white space', 'CMD [\u00a0"a"]', '[\u00a0"a"]'],
  ])('invalid JSON (%s) falls back to the shell form', (_why, src, command) => {
    expect(one(src, 'CMD').cmd).toEqual({ form: 'shell', command });
  });

  it('invalid JSON for COPY falls back to blank-separated words', () => {
    expect(one("COPY ['a', 'b']", 'COPY')).toMatchObject({ sources: ["['a',"], dest: "'b']" });
  });

  it.each([
    ['a number', 'CMD ["a", 1]', '1:11'],
    ['a nested array', 'CMD [ "echo", [ "nested" ] ]', '1:15'],
    ['an object', 'RUN [{"a": "b"}]', '1:6'],
    ['null', 'ENTRYPOINT [null]', '1:13'],
    ['a boolean', 'COPY [true, "b"]', '1:7'],
  ])('valid JSON with %s is an error at that element', (_what, src, at) => {
    expect(failure(src, true)).toEqual({ code: 'PARSE_JSON', at, message: 'when using JSON array syntax, arrays must be comprised of strings only' });
  });

  it('a JSON document that is not an array is the shell form', () => {
    expect(one('CMD {"a": "b"}', 'CMD').cmd).toEqual({ form: 'shell', command: '{"a": "b"}' });
    expect(one('CMD "a"', 'CMD').cmd).toEqual({ form: 'shell', command: '"a"' });
  });

  it('shell form keeps inner white space, quotes and escapes as written', () => {
    expect(dump('RUN  echo   "a  b"\t\\x  ')).toBe('(run "echo   \\"a  b\\"\\t\\\\x")');
  });

  it('unknown keywords dump with one empty item, as in the reference', () => {
    expect(dump('FOO bar baz')).toBe('(foo "")');
  });
});
