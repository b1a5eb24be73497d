import { describe, expect, it } from 'vitest';
import { ShellLex, processWord, processWords } from '../../../src/parser/shell/index.ts';
import { TsbuildError } from '../../../src/core/errors.ts';

const env = { A: 'abc', STAR: 'a*b?c', EMPTY: '', PATHV: '/usr/local/bin/tool.tar.gz', SP: 'x  y', UNSET: undefined };
const word = (s: string) => processWord(s, env).result;

describe('shell lexer: expansion', () => {
  it.each([
    ['$A', 'abc'], ['${A}', 'abc'], ['x${A}y', 'xabcy'], ['$NOPE', ''], ['$UNSET', ''],
    ['${NOPE:-d}', 'd'], ['${EMPTY:-d}', 'd'], ['${EMPTY-d}', ''], ['${NOPE-d}', 'd'], ['${A:-d}', 'abc'],
    ['${A:+s}', 's'], ['${EMPTY:+s}', ''], ['${EMPTY+s}', 's'], ['${NOPE+s}', ''],
    ['${A:?m}', 'abc'], ['${EMPTY?m}', ''],
  ])('%s → %s', (input, want) => {
    expect(word(input)).toBe(want);
  });

  it('${VAR:?msg} and ${VAR?msg} fail with the expanded message', () => {
    expect(() => word('${NOPE:?need $A}')).toThrow(/NOPE: need abc/);
    expect(() => word('${EMPTY:?}')).toThrow(/EMPTY: is not allowed to be empty/);
    expect(() => word('${NOPE?}')).toThrow(/NOPE: is not allowed to be unset/);
    try { word('${NOPE?x}'); } catch (e) { expect(e).toBeInstanceOf(TsbuildError); expect((e as TsbuildError).code).toBe('EXPANSION'); }
  });

  it.each([
    ['${PATHV#*/}', 'usr/local/bin/tool.tar.gz'],
    ['${PATHV##*/}', 'tool.tar.gz'],
    ['${PATHV%.*}', '/usr/local/bin/tool.tar'],
    ['${PATHV%%.*}', '/usr/local/bin/tool'],
    ['${PATHV#/usr}', '/local/bin/tool.tar.gz'],
    ['${PATHV%nomatch}', '/usr/local/bin/tool.tar.gz'],
    ['${A#?}', 'bc'],
    ['${STAR#a\\*}', 'b?c'],
    ['${STAR%\\?c}', 'a*b'],
    ['${STAR#*\\?}', 'c'],
    ['${PATHV/local/opt}', '/usr/opt/bin/tool.tar.gz'],
    ['${PATHV//o/0}', '/usr/l0cal/bin/t00l.tar.gz'],
    ['${PATHV/\\//:}', ':usr/local/bin/tool.tar.gz'],
    ['${A/b*/X}', 'aX'],
    ['${A/$/X}', 'abc'],
    ['${NOPE#x}', ''],
  ])('pattern op %s → %s', (input, want) => {
    expect(word(input)).toBe(want);
  });

  it('pattern ops cannot take the colon form, and bad escapes are errors', () => {
    expect(() => word('${A:#a}')).toThrow(/unsupported modifier \(:#\)/);
    expect(() => word('${A#\\x}')).toThrow(/invalid pattern/);
    expect(() => word('${A/a')).toThrow(/missing '\/'/);
  });

  it('reports which variables were used and which were unset', () => {
    const r = processWord('$A ${NOPE:-x} ${EMPTY} $A $UNSET', env);
    expect([...r.matched].sort()).toEqual(['A', 'EMPTY']);
    expect([...r.unmatched].sort()).toEqual(['NOPE', 'UNSET']);
  });

  it('accepts a Map as the environment', () => {
    expect(processWord('$X', new Map([['X', 'map']])).result).toBe('map');
  });

  it('never reads the process environment', () => {
    expect(processWord('$HOME$PATH', {}).result).toBe('');
  });
});

describe('shell lexer: quotes, escapes and word splitting', () => {
  it('removes quotes and processes escapes', () => {
    expect(word(`'$A'"$A"\\$A`)).toBe('$Aabc$A');
    expect(word('"a\\"b\\\\c\\d"')).toBe('a"b\\c\\d');
  });

  it('unterminated quotes are errors', () => {
    expect(() => word("'abc")).toThrow(/matching single-quote/);
    expect(() => word('"abc')).toThrow(/matching double-quote/);
  });

  it('splits unquoted expansions but not quoted ones', () => {
    expect(processWords('a $SP "b $SP" c\\ d', env).words).toEqual(['a', 'x', 'y', 'b x  y', 'c d']);
    expect(processWords(`'' "" x`, env).words).toEqual(['x']);
  });

  it('the backtick escape character', () => {
    expect(processWord('a`$A`"', env, '`').result).toBe('a$A"');
    expect(processWord('a\\b', env, '`').result).toBe('a\\b');
  });

  it('keeps a heredoc marker and its spaces in one word', () => {
    expect(processWords('cat << EOF > x', {}).words).toEqual(['cat', '<< EOF', '>', 'x']);
  });

  it('raw options keep quotes, escapes and unset references', () => {
    const lex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
    expect(lex.processWords(`"a b" \\c $NOPE \${NOPE:-x} $A`, env).words).toEqual(['"a b"', '\\c', '$NOPE', '${NOPE:-x}', 'abc']);
  });
});
