import { describe, expect, it } from 'vitest';
import { failure } from './helpers.ts';
import { parseBuildfile } from '../../../src/parser/index.ts';

function directivesOf(src: string) {
  return parseBuildfile(src, 'Buildfile').directives;
}

describe('parser directives', () => {
  it('reads escape, syntax and check at the top, any case, spaces around =', () => {
    expect(directivesOf('# syntax=docker/dockerfile:1\n#ESCAPE = `\n#  check=skip=all  \nFROM a')).toEqual({ escape: '`', syntax: 'docker/dockerfile:1', check: 'skip=all' });
    expect(directivesOf('FROM a')).toEqual({ escape: '\\' });
  });

  it('a directive after a comment, blank line or instruction is a comment, with a warning', () => {
    const r = parseBuildfile('# hello\n# escape=`\nRUN a \\\n b', 'Buildfile');
    expect(r.directives.escape).toBe('\\');
    expect(r.instructions).toHaveLength(1);
    expect(r.warnings).toEqual([{ message: expect.stringMatching(/parser directive "escape" ignored/), range: { file: 'Buildfile', startLine: 2, startCol: 1, endLine: 2, endCol: 1 } }]);
    expect(directivesOf('\n# escape=`\nFROM a').escape).toBe('\\');
    expect(directivesOf('FROM a\n# syntax=x').syntax).toBeUndefined();
  });

  it('an unknown directive name ends the block', () => {
    expect(directivesOf('# foo=bar\n# escape=`\nFROM a').escape).toBe('\\');
  });

  it('a duplicate directive is an error at its line', () => {
    expect(failure('# escape=`\n# escape=\\\nFROM a')).toEqual({ code: 'PARSE_DIRECTIVE', at: '2:1', message: 'only one escape parser directive can be used' });
    expect(failure('# syntax=a\n# Syntax=b\nFROM a').message).toBe('only one syntax parser directive can be used');
  });

  it('an escape other than \\ or ` is an error', () => {
    expect(failure('# escape=x\nFROM a')).toEqual({ code: 'PARSE_DIRECTIVE', at: '1:1', message: "invalid escape token 'x' does not match ` or \\" });
    expect(failure('  # escape=\\\\\nFROM a').at).toBe('1:3');
  });

  it('a directive without a value is an ordinary comment', () => {
    expect(directivesOf('# escape=\n# escape=`\nFROM a').escape).toBe('\\');
  });
});
