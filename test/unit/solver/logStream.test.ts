import { expect, test } from 'vitest';
import { finished } from 'node:stream/promises';
import { logStream } from '../../../src/solver/logStream.ts';
import type { BuildEvent, StepRef } from '../../../src/events/types.ts';

const step: StepRef = { id: '0.1', index: 1, total: 1, text: 'RUN x' };

/** logged writes chunks to a logStream and returns the step.log texts it emitted. */
async function logged(chunks: Buffer[]): Promise<string[]> {
  const texts: string[] = [];
  const w = logStream({ emit: (e: BuildEvent) => { if (e.type === 'step.log') texts.push(e.text); } }, step, 'stdout');
  for (const c of chunks) w.write(c);
  w.end();
  await finished(w);
  return texts;
}

test('a UTF-8 character split across chunks comes out whole', async () => {
  const bytes = Buffer.from('héllo €1 🙂\n');
  // Split inside é (2 bytes), € (3 bytes) and 🙂 (4 bytes, twice).
  const cuts = [2, 9, 13, 15];
  const chunks = [0, ...cuts].map((c, i) => bytes.subarray(c, [...cuts, bytes.length][i]));
  const texts = await logged(chunks);
  expect(texts.join('')).toBe('héllo €1 🙂\n');
  expect(texts.join('')).not.toContain('\uFFFD');
});

test('a character cut off by the end of output is flushed as one replacement character', async () => {
  const texts = await logged([Buffer.from('ok '), Buffer.from('€').subarray(0, 2)]);
  expect(texts).toEqual(['ok ', '\uFFFD']);
});
