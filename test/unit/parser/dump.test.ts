import { describe, expect, it } from 'vitest';
import { goQuote } from '../../../src/parser/index.ts';
import { dump } from './helpers.ts';

describe('Go quoting for the dump', () => {
  it.each([
    ['plain', '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
    ['é♥한', '"é♥한"'],
    ['\u00a0\u200b\u2028\ufeff', '"\\u00a0\\u200b\\u2028\\ufeff"'],
    ['\u{1F600}', '"😀"'],
    ['\u{E0001}', '"\\U000e0001"'],
  ])('%j → %s', (input, want) => {
    expect(goQuote(input)).toBe(want);
  });
});

describe('dump format', () => {
  it('renders flags, items and nested ONBUILD instructions', () => {
    expect(dump('COPY --a=1 --b x y\nONBUILD ADD --c=2 p q\nCMD\nENV\nHEALTHCHECK')).toBe(
      '(copy ["--a=1" "--b"] "x" "y")\n(onbuild (add ["--c=2"] "p" "q"))\n(cmd)\n(env)\n(healthcheck)',
    );
  });

  it('lower-cases only the keyword', () => {
    expect(dump('RuN ECHO')).toBe('(run "ECHO")');
  });
});
