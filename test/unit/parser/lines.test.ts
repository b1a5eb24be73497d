import { describe, expect, it } from 'vitest';
import { dump, failure, one, parse } from './helpers.ts';
import { parseTree } from '../../../src/parser/index.ts';

describe('physical lines, continuations and comments', () => {
  it('joins continuation lines with no separator, keeping their indentation', () => {
    expect(one('RUN a \\\n  b \\\n\tc', 'RUN').cmd).toEqual({ form: 'shell', command: 'a   b \tc' });
  });

  it('white space after the escape character still continues', () => {
    expect(one('RUN a \\  \t\nb', 'RUN').cmd).toEqual({ form: 'shell', command: 'a b' });
  });

  it('a doubled escape at the end does not continue', () => {
    expect(parse('ENV A=x\\\\\nENV B=y')).toHaveLength(2);
  });

  it('comments and blank lines inside a continuation are skipped; blank ones warn once', () => {
    const { tree, warnings } = parseTree('RUN a \\\n# comment \\\n\n   \nb \\\n\nc\n', 'Buildfile');
    expect(dump('RUN a \\\n# comment \\\n\n   \nb \\\n\nc\n')).toBe('(run "a b c")');
    expect([tree.nodes[0]!.startLine, tree.nodes[0]!.endLine]).toEqual([1, 7]);
    expect(warnings).toEqual([{ message: 'Empty continuation line found in: RUN a b c', range: { file: 'Buildfile', startLine: 1, startCol: 1, endLine: 1, endCol: 1 } }]);
  });

  it('a comment line never continues, even ending in the escape character', () => {
    expect(parse('# note \\\nFROM a')).toHaveLength(1);
  });

  it('# after an instruction is ordinary text', () => {
    expect(one('RUN echo a # b', 'RUN').cmd).toEqual({ form: 'shell', command: 'echo a # b' });
  });

  it('a continuation at the end of the file is fine', () => {
    const { tree } = parseTree('FROM a\nRUN x \\', 'Buildfile');
    expect(dump('FROM a\nRUN x \\')).toBe('(from "a")\n(run "x")');
    expect(tree.endLine).toBe(2);
  });

  it('CRLF and trailing CRs are removed; a UTF-8 BOM is skipped', () => {
    expect(dump('\ufeffFROM a\r\nRUN b \\\r\n c\r\r\n')).toBe('(from "a")\n(run "b  c")');
  });

  it('a lone escape line starts an instruction with an empty first fragment', () => {
    expect(dump('\\\nFROM a')).toBe('(from "a")');
    expect(dump('\\')).toBe('("")');
  });

  it('the escape directive switches the continuation character to a backtick', () => {
    expect(one('# escape=`\nRUN a `\n  b \\', 'RUN').cmd).toEqual({ form: 'shell', command: 'a   b \\' });
  });

  it('keyword and arguments split at the first blank run; tabs count', () => {
    expect(dump('RUN\t\techo')).toBe('(run "echo")');
  });

  it('leading white space before an instruction is ignored, and columns count it', () => {
    expect(parse('   \tFROM a')[0]!.range).toEqual({ file: 'Buildfile', startLine: 1, startCol: 5, endLine: 1, endCol: 10 });
  });

  it('a line longer than 65535 bytes is an error', () => {
    expect(failure(`FROM a\nRUN ${'x'.repeat(65532)}`, true)).toMatchObject({ at: '2:1', message: 'dockerfile line greater than max allowed size of 65535' });
    expect(parse(`FROM a\nRUN ${'x'.repeat(65531)}`)).toHaveLength(2);
  });

  it('an empty file, or one with only comments and blank lines, is an error', () => {
    expect(failure('', true)).toEqual({ code: 'PARSE_SYNTAX', at: '1:1', message: 'file with no instructions' });
    expect(failure('# a\n\n  # b\n', true).message).toBe('file with no instructions');
  });

  it('only a continuation with nothing after it at the end of a file is an instruction error', () => {
    expect(failure('FROM a\n\\\n\n')).toMatchObject({ at: '2:1', message: 'instruction expected after a line continuation' });
  });

  it('ranges span continuation lines and end at the last one', () => {
    const run = parse('FROM a\nRUN x \\\n  y \\\n  zz\nUSER u')[1]!;
    expect(run.range).toEqual({ file: 'Buildfile', startLine: 2, startCol: 1, endLine: 4, endCol: 4 });
  });
});
