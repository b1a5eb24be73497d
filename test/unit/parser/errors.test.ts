import { describe, expect, it } from 'vitest';
import { failure } from './helpers.ts';

// Every error carries the file and the exact line and column of what is wrong.
describe('error positions', () => {
  it.each([
    ['unknown instruction', 'FROM a\n\n  BOGUS x', '3:3'],
    ['unknown flag after a continuation', 'FROM a\nCOPY \\\n   --bad=1 x y', '3:4'],
    ['bad flag value on the second line of flags', 'FROM a\nCOPY --from=x \\\n --link=maybe a b', '3:2'],
    ['non-string JSON element on a continued line', 'FROM a\nCMD ["a", \\\n  2]', '3:3'],
    ['ENV without a value', 'FROM a\nENV   KEY', '2:7'],
    ['ENV word without =', 'FROM a\nENV A=1 \\\n  B', '3:3'],
    ['stage name', 'FROM a AS 9x', '1:11'],
    ['heredoc without terminator', 'FROM a\n\nRUN <<EOF\nx', '3:1'],
    ['too long line', `FROM a\n${'#'.repeat(70000)}`, '2:1'],
    ['duplicate directive', '# check=a\n# check=b\nFROM a', '2:1'],
    ['ONBUILD ONBUILD', 'FROM a\nONBUILD   ONBUILD x', '2:11'],
    ['SHELL not JSON', 'FROM a\nSHELL  sh -c', '2:8'],
    ['COPY with one argument', 'FROM a\nCOPY --link   src', '2:15'],
    ['HEALTHCHECK bad duration', 'HEALTHCHECK --retries=1 --interval=1parsec CMD x', '1:25'],
  ])('%s', (_what, src, at) => {
    expect(failure(src).at).toBe(at);
  });

  it('codes tell the kind of failure', () => {
    expect(failure('FROM a\nRUN [1]').code).toBe('PARSE_JSON');
    expect(failure('FROM a\nCOPY --x a b').code).toBe('PARSE_FLAG');
    expect(failure('FROM a\nX').code).toBe('UNKNOWN_INSTRUCTION');
    expect(failure('# escape=!\nFROM a').code).toBe('PARSE_DIRECTIVE');
    expect(failure('RUN <<E\n').code).toBe('PARSE_HEREDOC');
  });
});
