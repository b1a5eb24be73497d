import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseDirs, corpusPresent, CORPUS, readCorpus } from './corpus.ts';
import { dumpTree, parseTree } from '../../src/parser/index.ts';
import { TsbuildError } from '../../src/core/errors.ts';

const PARSER = 'frontend/dockerfile/parser';
const positive = caseDirs(PARSER, 'testfiles');
const negative = caseDirs(PARSER, 'testfiles-negative');

describe('buildkit parser corpus', () => {
  it(`is present at ${CORPUS}`, () => {
    expect(corpusPresent).toBe(true);
  });

  it('is the corpus as published: every file matches SHA256SUMS', () => {
    const sums = readFileSync(join(CORPUS, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums.length).toBeGreaterThan(70);
    for (const line of sums) {
      const [want, file] = line.split(/\s+/, 2) as [string, string];
      expect(createHash('sha256').update(readFileSync(join(CORPUS, file))).digest('hex'), file).toBe(want);
    }
  });

  it('has all 33 positive and 4 negative cases', () => {
    expect(positive).toHaveLength(33);
    expect(negative).toHaveLength(4);
  });

  describe('testfiles: dump equals result', () => {
    it.each(positive)('%s', (name) => {
      const src = readCorpus(PARSER, 'testfiles', name, 'Dockerfile');
      const want = readCorpus(PARSER, 'testfiles', name, 'result').replace(/\r\n/g, '\n');
      expect(dumpTree(parseTree(src, 'Dockerfile').tree)).toBe(want);
    });
  });

  describe('testfiles-negative: rejected with a position', () => {
    it.each(negative)('%s', (name) => {
      const src = readCorpus(PARSER, 'testfiles-negative', name, 'Dockerfile');
      let err: unknown;
      try {
        parseTree(src, 'Dockerfile');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TsbuildError);
      const range = (err as TsbuildError).range;
      expect(range?.file).toBe('Dockerfile');
      expect(range?.startLine).toBeGreaterThanOrEqual(1);
      expect(range?.startCol).toBeGreaterThanOrEqual(1);
    });
  });

  it('testfile-line: root and instruction line numbers', () => {
    const { tree } = parseTree(readCorpus(PARSER, 'testfile-line', 'Dockerfile'), 'Dockerfile');
    expect([tree.startLine, tree.endLine]).toEqual([5, 31]);
    expect(tree.nodes.map((n) => [n.startLine, n.endLine])).toEqual([[5, 5], [11, 12], [17, 31]]);
  });

  it('testfile-line: one empty-continuation warning for the long RUN', () => {
    const { warnings } = parseTree(readCorpus(PARSER, 'testfile-line', 'Dockerfile'), 'Dockerfile');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/^Empty continuation line found in: RUN apt-get update/);
    expect(warnings[0]!.range.startLine).toBe(17);
  });
});
