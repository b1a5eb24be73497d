import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { TtyRenderer, type Spinner } from '../../../src/ui/ttyRenderer.ts';
import type { StepRef } from '../../../src/events/types.ts';

/** FakeSpinner records what an ora spinner would show: its current text and the persisted lines. */
class FakeSpinner implements Spinner {
  isSpinning = false;
  text = '';
  readonly persisted: string[] = [];
  start(): this { this.isSpinning = true; return this; }
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

beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(T0); });
afterEach(() => { vi.useRealTimers(); });

test('the spinner shows the running step with its elapsed time and its last five log lines', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s);
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.cached', step: copy, at: T0 });
  r.emit({ type: 'step.start', step: run, at: T0 });
  expect(s.isSpinning).toBe(true);
  r.emit({ type: 'step.log', step: run, stream: 'stdout', text: 'line 1\nline 2\nline 3\nli', at: T0 });
  r.emit({ type: 'step.log', step: run, stream: 'stderr', text: 'ne 4\n\x1b[31mline 5\x1b[0m\nline 6\npartial', at: T0 });
  vi.advanceTimersByTime(2_500);
  expect(s.text).toBe([
    '[2/3] RUN make  2.50s',
    '    │ line 2',
    '    │ line 3',
    '    │ line 4',
    '    │ line 5',
    '    │ line 6',
  ].join('\n'));
  vi.advanceTimersByTime(1_000);
  expect(s.text.split('\n')[0]).toBe('[2/3] RUN make  3.50s');
  r.emit({ type: 'step.done', step: run, ms: 3_500, at: T0 + 3_500 });
  r.emit({ type: 'build.done', imageId: `sha256:${'ab'.repeat(32)}`, tags: ['app:1'], ms: 3_600, at: T0 + 3_600 });
  expect(s.persisted).toEqual(['✔ [1/3] COPY . /src  CACHED', '✔ [2/3] RUN make  3.50s', '✔ built app:1 in 3.60s']);
  expect(s.isSpinning).toBe(false);
});

test('a failed step leaves its last log lines under the error; two running steps share the spinner', () => {
  const s = new FakeSpinner();
  const r = new TtyRenderer(s);
  const other: StepRef = { id: '1.1', index: 3, total: 3, text: 'RUN sleep 9', stage: 'b' };
  r.emit({ type: 'build.start', total: 3, at: T0 });
  r.emit({ type: 'step.start', step: run, at: T0 });
  vi.advanceTimersByTime(1_000);
  r.emit({ type: 'step.start', step: other, at: T0 + 1_000 });
  r.emit({ type: 'step.log', step: run, stream: 'stderr', text: 'cc: error\n', at: T0 + 1_000 });
  vi.advanceTimersByTime(200);
  expect(s.text).toBe('[2/3] RUN make  1.20s\n    │ cc: error\n  [b 3/3] RUN sleep 9  0.20s');
  r.emit({ type: 'step.failed', step: run, message: 'exit code 2', at: T0 + 1_200 });
  expect(s.persisted).toEqual(['✖ [2/3] RUN make  exit code 2\n    cc: error']);
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
  const r = new TtyRenderer(ora({ stream: out as unknown as NodeJS.WriteStream, isEnabled: true, discardStdin: false }));
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
