import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { TtyRenderer, type Spinner } from '../../../src/ui/ttyRenderer.ts';
import type { StepRef } from '../../../src/events/types.ts';

/** FakeSpinner records what an ora spinner would show: its current text and the persisted lines. */
class FakeSpinner implements Spinner {
  isSpinning = false;
  text = '';
  readonly persisted: string[] = [];
  /** The text each start() drew at once (ora renders a frame when it starts). */
  readonly started: string[] = [];
  start(): this { this.isSpinning = true; this.started.push(this.text); return this; }
  stop(): this { this.isSpinning = false; return this; }
  stopAndPersist(o: { symbol: string; text: string }): this {
    this.isSpinning = false;
    this.persisted.push(`${o.symbol} ${o.text}`);
    return this;
  }
}

const copy: StepRef = { id: '0.1', index: 1, total: 3, text: 'COPY . /src' };
const run: StepRef = { id: '0.2', index: 2, total: 3, text: 'RUN make' };
const T0 = 1_000_000;
const WIDE = { columns: () => 100, color: false };

beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(T0); });
afterEach(() => { vi.useRealTimers(); });

test('the spinner shows the running step with its elapsed time and the last five lines of its output', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s, WIDE);
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.cached', step: copy, at: T0 });
  r.emit({ type: 'step.start', step: run, at: T0 });
  expect(s.isSpinning).toBe(true);
  r.emit({ type: 'step.log', step: run, stream: 'stdout', text: 'line 1\nline 2\nline 3\nli', at: T0 });
  r.emit({ type: 'step.log', step: run, stream: 'stdout', text: 'ne 4\n\x1b[31mline 5\x1b[0m\nline 6\npartial', at: T0 });
  vi.advanceTimersByTime(2_500);
  expect(s.text).toBe([
    '[2/3] RUN make  2.50s',
    '    │ line 3',
    '    │ line 4',
    '    │ line 5',
    '    │ line 6',
    '    │ partial',
  ].join('\n'));
  vi.advanceTimersByTime(1_000);
  expect(s.text.split('\n')[0]).toBe('[2/3] RUN make  3.50s');
  r.emit({ type: 'step.done', step: run, ms: 3_500, at: T0 + 3_500 });
  r.emit({ type: 'build.done', imageId: `sha256:${'ab'.repeat(32)}`, tags: ['app:1'], ms: 3_600, at: T0 + 3_600 });
  expect(s.persisted).toEqual(['✔ [1/3] COPY . /src  CACHED', '✔ [2/3] RUN make  3.50s', '✔ built app:1 in 3.60s']);
  expect(s.isSpinning).toBe(false);
});

test('a failed step leaves its last log lines, not its error (the CLI prints that once); two running steps share the spinner', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s, WIDE);
  const other: StepRef = { id: '1.1', index: 3, total: 3, text: 'RUN sleep 9', stage: 'b' };
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.start', step: run, at: T0 });
  vi.advanceTimersByTime(1_000);
  r.emit({ type: 'step.start', step: other, at: T0 + 1_000 });
  r.emit({ type: 'step.log', step: run, stream: 'stderr', text: 'cc: error\n', at: T0 + 1_000 });
  vi.advanceTimersByTime(200);
  expect(s.text).toBe('[2/3] RUN make  1.20s\n    │ cc: error\n  [b 3/3] RUN sleep 9  0.20s');
  r.emit({ type: 'step.failed', step: run, message: 'exit code 2', at: T0 + 1_200 });
  expect(s.persisted).toEqual(['✖ [2/3] RUN make  1.20s\n    │ cc: error']);
  expect(s.isSpinning).toBe(true);
  expect(s.text).toBe('[b 3/3] RUN sleep 9  0.20s');
  r.close();
  expect(s.isSpinning).toBe(false);
});

test('with a real ora on a terminal stream, the frame shows the step, its elapsed time and its log tail', async () => {
  vi.useRealTimers();
  const { default: ora } = await import('ora');
  const { PassThrough } = await import('node:stream');
  const out = Object.assign(new PassThrough(), { isTTY: true, columns: 100, rows: 30, cursorTo: () => true, moveCursor: () => true, clearLine: () => true });
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const r = new TtyRenderer(ora({ stream: out as unknown as NodeJS.WriteStream, isEnabled: true, discardStdin: false }), WIDE);
  const now = Date.now();
  r.emit({ type: 'build.start', total: 3, at: now });
  r.emit({ type: 'step.start', step: run, at: now - 1_500 });
  r.emit({ type: 'step.log', step: run, stream: 'stdout', text: 'compiling main.c\n', at: now });
  await new Promise((res) => setTimeout(res, 350));
  r.emit({ type: 'step.done', step: run, ms: 1_900, at: Date.now() });
  r.close();
  expect(text).toMatch(/\[2\/3\] RUN make {2}(1\.[5-9]|[2-9]\.)\d+s/); // started 1.5 s before
  expect(text).toContain('    │ compiling main.c');
  expect(text).toContain('✔ [2/3] RUN make  1.90s');
});

test('output lines ending in \\r\\n show in the window, and a line redrawn with \\r shows its latest state', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s, WIDE);
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.start', step: run, at: T0 });
  r.emit({ type: 'step.log', step: run, stream: 'stdout', text: 'Get:1 http://deb a\r\nGet:2 http://deb b\r\nFetched 9 kB\r\n', at: T0 });
  r.emit({ type: 'step.log', step: run, stream: 'stderr', text: '\r 10% [=    ]\r 60% [===  ]', at: T0 });
  vi.advanceTimersByTime(100);
  expect(s.text).toBe(['[2/3] RUN make  0.10s', '    │ Get:1 http://deb a', '    │ Get:2 http://deb b', '    │ Fetched 9 kB', '    │  60% [===  ]'].join('\n'));
});

test('a finished step leaves the spinner before its line is persisted: it never shows twice', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s, WIDE);
  const other: StepRef = { id: '1.1', index: 3, total: 3, text: 'RUN sleep 9', stage: 'b' };
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.start', step: run, at: T0 });
  r.emit({ type: 'step.start', step: other, at: T0 });
  r.emit({ type: 'step.done', step: run, ms: 50, at: T0 + 50 });
  r.emit({ type: 'step.cached', step: copy, at: T0 + 50 });
  expect(s.persisted).toEqual(['✔ [2/3] RUN make  0.05s', '✔ [1/3] COPY . /src  CACHED']);
  expect(s.started.slice(1)).toEqual(['[b 3/3] RUN sleep 9  0.00s', '[b 3/3] RUN sleep 9  0.00s']);
  expect(s.text).not.toContain('RUN make');
});

test('every line fits the terminal: a long step text is cut, never its timer; so are log lines and finished lines', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s, { columns: () => 40, color: false });
  const long: StepRef = { id: '0.3', index: 3, total: 3, text: 'RUN apt-get update && apt-get install -y build-essential curl' };
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.start', step: long, at: T0 });
  r.emit({ type: 'step.log', step: long, stream: 'stdout', text: `${'Setting up libc6-dev:amd64 (2.36-9+deb12u4) ... '.repeat(2)}\n`, at: T0 });
  vi.advanceTimersByTime(12_300);
  const frame = s.text.split('\n');
  expect(frame[0]).toBe('[3/3] RUN apt-get update && a…  12.3s');
  expect(frame[1]).toBe('    │ Setting up libc6-dev:amd64 (2.36…');
  // ora puts `⠋ ` before the first line; one column is left free so that nothing wraps.
  for (const [i, l] of frame.entries()) expect((i ? 0 : 2) + [...l].length).toBe(39);
  r.emit({ type: 'step.done', step: long, ms: 12_300, at: T0 + 12_300 });
  expect(s.persisted).toEqual(['✔ [3/3] RUN apt-get update && a…  12.3s']);
  r.emit({ type: 'warning', message: 'One or more build-args [A_VERY_LONG_NAME ANOTHER_ONE] were not consumed', at: T0 });
  expect(s.persisted[1]!.split('\n')).toEqual(['  One or more build-args', '  [A_VERY_LONG_NAME ANOTHER_ONE] were', '  not consumed'].map((l, i) => (i ? l : `⚠ ${l.trimStart()}`)));
  // CJK and emoji take two columns each.
  r.emit({ type: 'step.cached', step: { ...long, text: 'RUN echo 日本語のテキストです 😀😀😀😀' }, at: T0 });
  expect(s.persisted[2]).toBe('✔ [3/3] RUN echo 日本語のテキ…  CACHED'); // 2 + 28 + 2 + 6 columns
});

test('a failed step keeps its last 20 lines and says how to see the rest', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s, WIDE);
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.start', step: run, at: T0 });
  r.emit({ type: 'step.log', step: run, stream: 'stdout', text: Array.from({ length: 30 }, (_, i) => `line ${i + 1}\n`).join(''), at: T0 });
  r.emit({ type: 'step.log', step: run, stream: 'stderr', text: 'make: *** [all] Error 2', at: T0 });
  r.emit({ type: 'step.failed', step: run, message: 'exit code 2', at: T0 + 2_000 });
  expect(s.persisted[0]!.split('\n')).toEqual([
    '✖ [2/3] RUN make  2.00s',
    '    … 11 earlier lines; --progress=plain shows all of the output',
    ...Array.from({ length: 19 }, (_, i) => `    │ line ${i + 12}`),
    '    │ make: *** [all] Error 2',
  ]);
});

test('with colour: a green ✔, a red ✖, a dim CACHED', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s, { columns: () => 100, color: true });
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.cached', step: copy, at: T0 });
  r.emit({ type: 'step.start', step: run, at: T0 });
  r.emit({ type: 'step.failed', step: run, message: 'exit code 2', at: T0 + 1_000 });
  expect(s.persisted).toEqual(['\x1b[32m✔\x1b[39m [1/3] COPY . /src  \x1b[2mCACHED\x1b[22m', '\x1b[1;31m✖\x1b[22;39m [2/3] RUN make  1.00s']);
});
