import { expect, test } from 'vitest';
import { TerminalLines } from '../../../src/ui/terminalLines.ts';

/** shown feeds chunks to one TerminalLines and returns the finished lines, then the unfinished one (or null). */
function shown(...chunks: string[]): [string[], string | null] {
  const t = new TerminalLines();
  const lines = chunks.flatMap((c) => t.write(c));
  return [lines, t.end() ?? null];
}

test.each([
  // each: chunks, finished lines, unfinished line; as a terminal shows them
  [['a\nb\n'], ['a', 'b'], null],
  [['Get:1 http://deb a\r\nGet:2 b\r\n'], ['Get:1 http://deb a', 'Get:2 b'], null], // apt through a pty
  [['Get:1 a\r', '\nGet:2 b\r', '\n'], ['Get:1 a', 'Get:2 b'], null], // \r and \n in different chunks
  [['10%\r50%\r100%\n'], ['100%'], null], // a progress line redrawn
  [['\r 10% [=   ]', '\r 50% [==  ]', '\r100% [====]'], [], '100% [====]'], // still running: its latest state
  [['Progress 100%\rDone\n'], ['Doneress 100%'], null], // \r overwrites, it does not erase
  [['Progress 100%\r\x1b[KDone\n'], ['Done'], null], // erased to the end of the line
  [['Progress 100%\r\x1b[2KDone\n'], ['Done'], null], // the whole line
  [['abcdef\x1b[3D\x1b[1KX\n'], ['   Xef'], null], // erased to the start: cells become spaces
  [['abc\x08\x08X\n'], ['aXc'], null], // backspace
  [['a\tb\n'], ['a       b'], null], // tab to the next multiple of 8
  [['\x1b[32mgreen\x1b[0m \x1b[1;31mred\x1b[m\n'], ['green red'], null], // colours dropped
  [['\x1b]0;title\x07x\x1b]8;;http://a\x1b\\link\x1b]8;;\x1b\\\n'], ['xlink'], null], // OSC (title, hyperlink)
  [['a\x1b', '[3', '1mb\x1b]0;t', 'itle\x07c\n'], ['abc'], null], // sequences cut between chunks
  [['\x1b7\x1b[0;23r\x1b8\x1b[1AReading\x1b(B\n'], ['Reading'], null], // apt's status-line dance
  [['x\x1b\ny\x07z\x00\n'], ['x', 'yz'], null], // a lone ESC and other controls
  [['a\x1b[5Gb\n'], ['a   b'], null], // cursor to column 5
  [['trailing   \n', 'unfinished  '], ['trailing'], 'unfinished'],
  [['\n\r\n'], ['', ''], null], // blank lines are lines
])('%j', (chunks, lines, rest) => {
  expect(shown(...chunks)).toEqual([lines, rest]);
});

test('a line too long for memory is cut as a terminal wraps it', () => {
  const [lines, rest] = shown('x'.repeat(40_000) + '\n');
  expect(lines.map((l) => l.length)).toEqual([16_384, 16_384, 40_000 - 2 * 16_384]);
  expect(rest).toBeNull();
});

test('current is the unfinished line as it stands', () => {
  const t = new TerminalLines();
  t.write('done\nDownloading 10%');
  expect(t.current).toBe('Downloading 10%');
  t.write('\rDownloading 90%');
  expect(t.current).toBe('Downloading 90%');
});
