import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBuildfile } from '../../../src/parser/index.ts';
import { TsbuildError } from '../../../src/core/errors.ts';
import { formatLocation } from '../../../src/core/range.ts';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures');
const cases = (dir: string) => readdirSync(join(FIXTURES, dir)).sort();

/** renderFailure is the error.txt format: CODE FILE:LINE:COL: message. */
function renderFailure(src: string): string {
  try {
    parseBuildfile(src, 'Buildfile');
  } catch (e) {
    if (!(e instanceof TsbuildError) || e.range === undefined) throw e;
    return `${e.code} ${formatLocation(e.range)}: ${e.message}\n`;
  }
  return 'parsed without error\n';
}

describe('golden Buildfiles → instructions.json', () => {
  it('has fixtures', () => {
    expect(cases('buildfiles').length).toBeGreaterThanOrEqual(5);
  });

  it.each(cases('buildfiles'))('%s', async (name) => {
    const src = readFileSync(join(FIXTURES, 'buildfiles', name, 'Buildfile'), 'utf8');
    const result = parseBuildfile(src, 'Buildfile');
    await expect(JSON.stringify(result, null, 2) + '\n').toMatchFileSnapshot(join(FIXTURES, 'buildfiles', name, 'instructions.json'));
  });
});

describe('negative Buildfiles → error.txt', () => {
  it('has fixtures', () => {
    expect(cases('buildfiles-negative').length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases('buildfiles-negative'))('%s', async (name) => {
    const src = readFileSync(join(FIXTURES, 'buildfiles-negative', name, 'Buildfile'), 'utf8');
    const got = renderFailure(src);
    expect(got).not.toBe('parsed without error\n');
    await expect(got).toMatchFileSnapshot(join(FIXTURES, 'buildfiles-negative', name, 'error.txt'));
  });
});
