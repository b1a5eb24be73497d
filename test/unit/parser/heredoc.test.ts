import { describe, expect, it } from 'vitest';
import { dump, failure, one, parse } from './helpers.ts';
import { parseHeredocWord } from '../../../src/parser/heredoc.ts';

describe('heredocs', () => {
  it('RUN <<EOF: the body is verbatim, expanded later', () => {
    const r = one('RUN <<EOF\necho $HOME\n  # not a comment \\\nEOF\n', 'RUN');
    expect(r.cmd).toEqual({ form: 'shell', command: '<<EOF' });
    expect(r.heredocs).toEqual([{ name: 'EOF', content: 'echo $HOME\n  # not a comment \\\n', expand: true, chomp: false }]);
    expect(r.range).toMatchObject({ startLine: 1, endLine: 4 });
  });

  it('<<-EOF ends at a tab-indented terminator; tabs stay in the stored body', () => {
    const r = one('RUN <<-EOF\n\techo a\n\tEOF\n', 'RUN');
    expect(r.heredocs).toEqual([{ name: 'EOF', content: '\techo a\n', expand: true, chomp: true }]);
  });

  it('quoted delimiters turn expansion off', () => {
    expect(one('RUN <<"EOF"\nx\nEOF', 'RUN').heredocs[0]).toMatchObject({ name: 'EOF', expand: false });
    expect(one("RUN <<'EOF'\nx\nEOF", 'RUN').heredocs[0]).toMatchObject({ name: 'EOF', expand: false });
    expect(one("RUN <<E'O'F\nx\nEOF", 'RUN').heredocs[0]).toMatchObject({ name: 'EOF', expand: false });
  });

  it('several heredocs on one line are read in order', () => {
    const c = one('COPY <<A <<B /dst/\na1\nA\nb1\nb2\nB\nUSER x'.split('\nUSER x')[0]!, 'COPY');
    expect(c.sources).toEqual(['<<A', '<<B']);
    expect(c.heredocs.map((h) => [h.name, h.content])).toEqual([['A', 'a1\n'], ['B', 'b1\nb2\n']]);
  });

  it('instructions after a heredoc parse normally; its line numbers count', () => {
    const all = parse('FROM a\nADD <<EOF /x\nbody\nEOF\nUSER me');
    expect(all.map((i) => [i.kind, i.range.startLine, i.range.endLine])).toEqual([['FROM', 1, 1], ['ADD', 2, 4], ['USER', 5, 5]]);
  });

  it('the body keeps CRLF endings; the terminator may end in CR', () => {
    expect(one('RUN <<EOF\r\na\r\nEOF\r\n', 'RUN').heredocs[0]!.content).toBe('a\r\n');
  });

  it('a file descriptor prefix and a space after << are accepted', () => {
    expect(one('RUN cat 3<<EOF\nx\nEOF', 'RUN').heredocs[0]).toMatchObject({ name: 'EOF', fd: 3 });
    expect(one('RUN cat << EOF\nx\nEOF', 'RUN').heredocs[0]).toMatchObject({ name: 'EOF' });
  });

  it('ONBUILD RUN heredocs go to the trigger', () => {
    const o = one('ONBUILD RUN <<EOF\nx\nEOF', 'ONBUILD');
    expect(o.trigger.kind === 'RUN' && o.trigger.heredocs).toEqual([{ name: 'EOF', content: 'x\n', expand: true, chomp: false }]);
  });

  it('not a heredoc: other instructions, JSON form, quoted <<', () => {
    expect(parse('USER <<X\nFROM a')).toHaveLength(2);
    expect(one('RUN ["cat", "<<EOF"]', 'RUN').heredocs).toEqual([]);
    expect(one('RUN echo "<<EOF"', 'RUN').heredocs).toEqual([]);
    expect(one('RUN echo a<<b', 'RUN').heredocs).toEqual([]);
  });

  it('the dump does not show bodies', () => {
    expect(dump('RUN <<EOF\nbody\nEOF\nCMD x')).toBe('(run "<<EOF")\n(cmd "x")');
  });

  it('an unterminated heredoc is an error at its instruction', () => {
    expect(failure('FROM a\nRUN <<EOF\nbody\n')).toMatchObject({ code: 'PARSE_HEREDOC', at: '2:1', message: expect.stringMatching(/^unterminated heredoc/) });
    expect(failure('FROM a\nCOPY <<A <<B /x\nA\nb\n').message).toMatch(/"B"/);
  });

  it('an unterminated quote in a delimiter is an error', () => {
    expect(() => parseHeredocWord('<<"EOF')).toThrow(/unexpected end of statement/);
  });

  it('parseHeredocWord: not heredocs', () => {
    expect(parseHeredocWord('<<')).toBeUndefined();
    expect(parseHeredocWord('<<a<b')).toBeUndefined();
    expect(parseHeredocWord('x<<EOF')).toBeUndefined();
  });
});
