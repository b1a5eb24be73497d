import { describe, expect, test } from 'vitest';
import { parseDockerignore, PatternMatcher } from '../../../src/context/dockerignore.ts';
import { globMatch } from '../../../src/context/glob.ts';

describe('parseDockerignore', () => {
  test.each([
    ['comments and blank lines', '# comment\n\nfoo\n   \n#bar', ['foo']],
    // A `#` after leading spaces is not a comment (moby checks before trimming).
    ['indented hash is a pattern', '  # x', ['# x']],
    ['whitespace trimmed', '  foo  \n\tbar\t', ['foo', 'bar']],
    ['leading slash dropped', '/foo/bar', ['foo/bar']],
    ['cleaned', 'a/../b\n./c/\nd//e', ['b', 'c', 'd/e']],
    ['negation trimmed and cleaned', '!  /keep/', ['!keep']],
    ['root slash kept alone', '/', ['/']],
    ['UTF-8 BOM', '\uFEFFfoo', ['foo']],
    ['CRLF', 'a\r\nb\r\n', ['a', 'b']],
  ])('%s', (_name, text, want) => {
    expect(parseDockerignore(text)).toEqual(want);
  });
});

describe('PatternMatcher.matches', () => {
  const good: Array<[string[], string, boolean]> = [
    [['*.go'], 'a.go', true],
    [['*.go'], 'dir/a.go', false], // `*` does not cross `/`
    [['**/*.go'], 'dir/sub/a.go', true],
    [['**/*.go'], 'a.go', true], // `**` also matches no directory
    [['dir'], 'dir/a/b', true], // a parent match excludes everything below
    [['dir', '!dir/keep'], 'dir/keep', false],
    [['dir', '!dir/keep'], 'dir/keep/x', false], // negation applies to children too
    [['dir', '!dir/keep'], 'dir/other', true],
    [['*', '!README.md'], 'README.md', false],
    [['*', '!README.md'], 'src', true],
    [['!a', 'a'], 'a', true], // last match wins
    [['a', '!a'], 'a', false],
    [['?.txt'], 'a.txt', true],
    [['?.txt'], 'ab.txt', false],
    [['[a-c].txt'], 'b.txt', true],
    [['[a-c].txt'], 'd.txt', false],
    [['[^a].txt'], 'a.txt', false],
    [['[^a].txt'], 'b.txt', true],
    [['\\*.txt'], '*.txt', true], // escaped star is literal
    [['\\*.txt'], 'a.txt', false],
    [['foo**'], 'foobar', true],
    [['foo**'], 'foo/x/y', true],
    [['**'], 'any/thing', true],
    [['dir/**'], 'dir/x', true],
    [['dir/**'], 'dir', false], // prefix "dir/" does not match the dir itself
    [['**/node_modules'], 'a/b/node_modules/x/y', true],
    [['a/**/b'], 'a/b', true],
    [['a/**/b'], 'a/x/y/b', true],
    [['a/**/b'], 'a/xb', false],
    [['/abs'], 'abs', true],
    [['.git'], '.git/HEAD', true],
    [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true],
    [['*.md', '!README*.md', 'README-secret.md'], 'README-public.md', false],
    [['a.b'], 'axb', false], // `.` is literal
    [['a(b)+'], 'a(b)+', true], // regexp metacharacters are literal
    [['*'], '.', false], // the root is never excluded
  ];
  test.each(good)('%j excludes %s: %s', (patterns, path, want) => {
    const m = new PatternMatcher(parseDockerignore(patterns.join('\n')));
    expect(m.matches(path)).toBe(want);
  });

  test.each([
    ['['], // Unclosed class
    ['!'], // Negation of nothing
    ['a\\'], // Trailing backslash
    ['[]'], // Empty class
    ['[a-]'], // Range without end
    ['[z-a'], // Unclosed after range
  ])('bad pattern %j throws', (p) => {
    expect(() => new PatternMatcher([p])).toThrow(/pattern/);
  });
});

describe('PatternMatcher.mayReincludeBelow', () => {
  test.each([
    [['dir', '!dir/sub/keep'], 'dir', true],
    [['dir', '!dir/sub/keep'], 'dir/sub', true],
    [['dir', '!dir/sub/keep'], 'dir/other', false],
    [['dir', '!*.md'], 'dir', false], // `*.md` only re-includes top-level names
    [['dir', '!**/*.md'], 'dir', true],
    [['dir', '!d*'], 'dir/x', true], // `d*` matches the ancestor, so everything below
    [['dir'], 'dir', false],
  ])('%j below %s: %s', (patterns, dir, want) => {
    expect(new PatternMatcher(patterns).mayReincludeBelow(dir)).toBe(want);
  });
});

describe('globMatch (filepath.Match)', () => {
  test.each([
    ['*.txt', 'a.txt', true],
    ['*.txt', 'a/b.txt', false],
    ['arr[[]0].txt', 'arr[0].txt', true], // Docker's documented escape for brackets
    ['a\\?', 'a?', true],
    ['a\\?', 'ab', false],
    ['[!a]', '!', true], // Go uses `^` for negation, `!` is literal
    ['[\\]]', ']', true],
  ])('%s ~ %s: %s', (p, name, want) => {
    expect(globMatch(p, name)).toBe(want);
  });
});
