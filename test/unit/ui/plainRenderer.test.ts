import { expect, test } from 'vitest';
import { PassThrough } from 'node:stream';
import { PlainRenderer } from '../../../src/ui/plainRenderer.ts';
import type { StepRef } from '../../../src/events/types.ts';

function render(events: (r: PlainRenderer, at: number) => void): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const r = new PlainRenderer(out);
  r.emit({ type: 'build.start', total: 3, at: 1000 });
  events(r, 1000);
  return text;
}

const run: StepRef = { id: '0.1', index: 2, total: 3, text: 'RUN make' };
const env: StepRef = { id: '0.2', index: 3, total: 3, text: 'ENV A=1' };
const copy: StepRef = { id: '0.3', index: 1, total: 3, text: 'COPY . /src' };

test('plain progress: timestamped lines, output prefixed by its step, cached and config-only steps marked', () => {
  const text = render((r, t) => {
    r.emit({ type: 'step.cached', step: copy, at: t + 10 });
    r.emit({ type: 'step.start', step: run, at: t + 20 });
    r.emit({ type: 'step.log', step: run, stream: 'stdout', text: 'compil', at: t + 30 });
    r.emit({ type: 'step.log', step: run, stream: 'stdout', text: 'ing\n\x1b[32mok\x1b[0m\n', at: t + 40 });
    r.emit({ type: 'step.done', step: run, ms: 1400, at: t + 1420 });
    r.emit({ type: 'step.done', step: env, ms: 0, at: t + 1421 });
  });
  expect(text).toBe([
    '  0.01s [1/3] COPY . /src  CACHED',
    '  0.02s [2/3] RUN make',
    '  0.04s [2/3] | compiling',
    '  0.04s [2/3] | ok',
    '  1.42s [2/3] RUN make  done 1.40s',
    '  1.42s [3/3] ENV A=1',
    '',
  ].join('\n'));
  expect(text).not.toMatch(/\x1b/);
});


test('lines ending in \\r\\n (apt through a pty) are printed as they are; a line redrawn with \\r shows its last state', () => {
  const text = render((r, t) => {
    r.emit({ type: 'step.start', step: run, at: t });
    r.emit({ type: 'step.log', step: run, stream: 'stdout', text: 'Get:1 http://deb.debian.org bookworm InRelease\r\nGet:2 http://deb', at: t });
    r.emit({ type: 'step.log', step: run, stream: 'stdout', text: '.debian.org main\r', at: t });
    r.emit({ type: 'step.log', step: run, stream: 'stdout', text: '\nReading package lists... 0%\rReading package lists... 100%\r\n', at: t });
    r.emit({ type: 'step.log', step: run, stream: 'stderr', text: '\r 10% [==   ]\r 50% [=====     ]\r100% [==========]', at: t });
    r.emit({ type: 'step.done', step: run, ms: 10, at: t + 10 });
  });
  expect(text.split('\n').filter((l) => l.includes(' | '))).toEqual([
    '  0.00s [2/3] | Get:1 http://deb.debian.org bookworm InRelease',
    '  0.00s [2/3] | Get:2 http://deb.debian.org main',
    '  0.00s [2/3] | Reading package lists... 100%',
    '  0.01s [2/3] | 100% [==========]',
  ]);
});
