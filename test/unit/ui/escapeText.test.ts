import { expect, test } from 'vitest';
import { PassThrough } from 'node:stream';
import { escapeJson, escapeText } from '../../../src/ui/escapeText.ts';
import { renderError } from '../../../src/ui/renderError.ts';
import { JsonRenderer } from '../../../src/ui/jsonRenderer.ts';
import { PlainRenderer } from '../../../src/ui/plainRenderer.ts';
import { TerminalLines } from '../../../src/ui/terminalLines.ts';
import { TsbuildError } from '../../../src/core/errors.ts';

test.each([
  // each: text, as printed (Go's %q escapes, no quotes added)
  ['plain text, é € 😀 and a space', 'plain text, é € 😀 and a space'],
  ['a\rb\nc\td\x07\b\f\v', 'a\\rb\\nc\\td\\a\\b\\f\\v'],
  ['\x1b[2J\x00\x7f', '\\x1b[2J\\x00\\x7f'],
  ['\u009b1m \u0085', '\\u009b1m \\u0085'], // C1: a one-character CSI, NEL
  ['\u2028\u2029', '\\u2028\\u2029'],
  ['\u202eevil\u202c \u2066x\u2069 \u200f', '\\u202eevil\\u202c \\u2066x\\u2069 \\u200f'], // bidi controls
  ['a\u00a0b\u3000c\u200bd\ufeff', 'a\\u00a0b\\u3000c\\u200bd\\ufeff'], // other spaces, zero-width, BOM
  ['lone \ud800 surrogate', 'lone \\ud800 surrogate'],
  ['tag \u{e0041}', 'tag \\U000e0041'],
  ['back\\slash \\n stays', 'back\\slash \\n stays'],
])('escapeText(%j)', (text, shown) => {
  expect(escapeText(text)).toBe(shown);
});

test('escapeJson leaves valid JSON that parses to the same value, with no raw control character', () => {
  const value = { m: 'a\x1b[1m\u009b\u2028\u202e\u00a0 é 😀 \u{e0041}' };
  const line = escapeJson(JSON.stringify(value));
  expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u202e\u00a0]/);
  expect(JSON.parse(line)).toEqual(value);
});

test('renderError escapes the message, the location, the hint and errno paths: one line and a hint', () => {
  const e = new TsbuildError('UNKNOWN_INSTRUCTION', 'unknown instruction: X\x1b[2J\ny', {
    range: { file: 'Build\rfile', startLine: 2, startCol: 1, endLine: 2, endCol: 1 },
    hint: 'try\u2028this',
  });
  expect(renderError(e)).toBe('error: Build\\rfile:2:1: unknown instruction: X\\x1b[2J\\ny\n  hint: try\\u2028this');
  const errno = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/x/\x1b]0;t\x07' });
  expect(renderError(errno)).toBe('error: /x/\\x1b]0;t\\a: ENOENT: no such file');
  expect(renderError(new Error('bad\nthing')).split('\n')).toEqual(['error: internal: bad\\nthing', '  hint: this is a bug in tsbuild; run with TSBUILD_DEBUG=1 for details']);
});

function collect(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

test('progress renderers escape step texts and messages; output lines lose C1 controls too', () => {
  const step = { id: '0.1', index: 1, total: 1, text: 'COPY a\x1b[31m /x' };
  const p = collect();
  const plain = new PlainRenderer(p.out);
  plain.emit({ type: 'build.start', total: 1, at: 0 });
  plain.emit({ type: 'step.start', step, at: 0 });
  plain.emit({ type: 'step.failed', step, message: 'not\rfound', at: 0 });
  plain.emit({ type: 'warning', message: 'w\u202e', at: 0 });
  expect(p.text()).toBe('  0.00s [1/1] COPY a\\x1b[31m /x\n  0.00s [1/1] COPY a\\x1b[31m /x  ERROR: not\\rfound\n  0.00s WARNING: w\\u202e\n');
  expect(new TerminalLines().write('a\u009b2Jb\u0085c\n')).toEqual(['abc']);
  const j = collect();
  new JsonRenderer(j.out).emit({ type: 'step.failed', step, message: 'x\u009by', at: 0 });
  expect(j.text()).toBe(`${JSON.stringify({ type: 'step.failed', step, message: 'x\u009by', at: 0 }).replace('\u009b', '\\u009b')}\n`);
});

test('json progress: one step.log event per line, as a terminal shows it, the unfinished one when the step ends', () => {
  const step = { id: '0.1', index: 1, total: 1, text: 'RUN apt-get update' };
  const j = collect();
  const r = new JsonRenderer(j.out);
  r.emit({ type: 'step.log', step, stream: 'stdout', text: 'Get:1 a\r\nGet:2 b\r', at: 1 });
  r.emit({ type: 'step.log', step, stream: 'stderr', text: '\r 10%\r 90%', at: 2 });
  r.emit({ type: 'step.log', step, stream: 'stdout', text: '\n\x1b[1mdone\x1b[0m', at: 3 });
  r.emit({ type: 'step.done', step, ms: 5, at: 4 });
  expect(j.text().trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([
    { type: 'step.log', step, stream: 'stdout', text: 'Get:1 a', at: 1 },
    { type: 'step.log', step, stream: 'stdout', text: 'Get:2 b', at: 3 },
    { type: 'step.log', step, stream: 'stdout', text: 'done', at: 4 },
    { type: 'step.log', step, stream: 'stderr', text: ' 90%', at: 4 },
    { type: 'step.done', step, ms: 5, at: 4 },
  ]);
});
