import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { REPO, ok, tsbuild } from '../../helpers/cli.ts';
import { busyboxSuite, jsonEvents } from '../../helpers/image.ts';

// --progress=json is a stable interface: every event of real builds (multi-stage, run, cached,
// failed, warnings, info) is valid against the schema in the repository, and every event type
// the schema has is seen.

const suite = busyboxSuite({ beforeAll, afterAll });
const schema = JSON.parse(readFileSync(join(REPO, 'docs/progress.schema.json'), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

const BUILDFILE = `FROM busybox AS tools
RUN printf 'Get:1 http://deb a\\r\\nGet:2 http://deb b\\r\\n' && printf '\\r10%%\\r100%%\\n' && echo err >&2 && printf 'no newline'
RUN echo a && \\

    echo b > /b

FROM busybox
ENV A=1
COPY --from=tools /b /b
RUN cat /b
`;

/** expectValid checks every line of a json progress output against the schema and returns the events. */
function expectValid(stderr: string): any[] {
  const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
  expect(lines.length).toBeGreaterThan(0);
  const events = lines.map((l) => JSON.parse(l));
  for (const e of events) expect({ event: e, errors: validate(e) ? null : validate.errors }).toEqual({ event: e, errors: null });
  return events;
}

test('the events of real builds follow docs/progress.schema.json, and each of its types occurs', async () => {
  const { root, dir } = suite.t;
  const ctx = suite.ctx({ Buildfile: BUILDFILE, 'x.txt': 'x' });
  const cacheDir = join(dir, 'cache');
  const first = await ok(['--root', root, 'build', '--progress=json', '--build-arg', 'UNUSED=1', '--cache-to', `type=local,dest=${cacheDir}`, '-t', 'schema:1', ctx]);
  const cold = expectValid(first.stderr);
  // The output of the first RUN, one event per line, as a terminal shows it.
  const log = cold.filter((e) => e.type === 'step.log' && e.step.index === 2).map((e) => `${e.stream}: ${e.text}`);
  expect(log).toEqual(['stdout: Get:1 http://deb a', 'stdout: Get:2 http://deb b', 'stdout: 100%', 'stderr: err', 'stdout: no newline']);
  expect(cold.find((e) => e.type === 'build.start')).toMatchObject({ version: 1, total: 7 });

  const second = await ok(['--root', root, 'build', '--progress=rawjson', '--cache-from', `type=local,src=${cacheDir}`, '--no-cache=false', ctx]);
  const warm = expectValid(second.stderr);
  expect(warm.filter((e) => e.type === 'step.cached').length).toBeGreaterThanOrEqual(3);

  const failing = await tsbuild(['--root', root, 'build', '--progress=json', suite.ctx({ Buildfile: 'FROM busybox\nRUN echo about to fail && exit 4\n' })]);
  expect(failing.code).toBe(1);
  const failed = expectValid(failing.stderr);
  expect(failed.at(-1)).toMatchObject({ type: 'step.failed', step: { index: 2 } });
  // The error follows the events as text, once.
  expect(failing.stderr.split('\n').filter((l) => !l.startsWith('{'))).toEqual([expect.stringMatching(/^error: .*exit code: 4$/), '']);

  const seen = new Set([...cold, ...warm, ...failed].map((e) => e.type));
  expect([...seen].sort()).toEqual(schema.oneOf.map((r: { $ref: string }) => r.$ref.replace('#/$defs/', '')).sort());
});

test('the schema catches what breaks it: a missing field, an unknown one, a control character in a line', () => {
  const step = { id: '0.1', index: 2, total: 2, text: 'RUN x' };
  expect(validate({ type: 'step.log', step, stream: 'stdout', text: 'a line', at: 1 })).toBe(true);
  expect(validate({ type: 'step.log', step, stream: 'stdout', text: 'a\rline', at: 1 })).toBe(false);
  expect(validate({ type: 'step.log', step, stream: 'stdout', at: 1 })).toBe(false);
  expect(validate({ type: 'build.start', total: 2, at: 1 })).toBe(false); // no version
  expect(validate({ type: 'step.done', step, ms: 1, at: 1, extra: true })).toBe(false);
  expect(validate({ type: 'step.exploded', step, at: 1 })).toBe(false);
});

test('docs/PROGRESS.md describes every event type of the schema', () => {
  const doc = readFileSync(join(REPO, 'docs/PROGRESS.md'), 'utf8');
  for (const r of schema.oneOf as { $ref: string }[]) expect(doc).toContain(`\`${r.$ref.replace('#/$defs/', '')}\``);
});
