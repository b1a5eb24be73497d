import { describe, expect, it } from 'vitest';
import { corpusPresent, CORPUS, readCorpus } from './corpus.ts';
import { ShellLex } from '../../src/parser/shell/index.ts';
import { trimGo } from '../../src/parser/goText.ts';

// FORMAT.md section 4: platform|input|expected, run the A and U lines (Unix semantics).
interface EnvCase { line: number; input: string; expected: string }

function envVarCases(): EnvCase[] {
  if (!corpusPresent) return [];
  const out: EnvCase[] = [];
  readCorpus('frontend/dockerfile/shell/envVarTest').split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#') || trimGo(line) === '') return;
    const fields = trimGo(line).split('|');
    if (fields.length !== 3) throw new Error(`envVarTest:${i + 1}: want 3 fields, got ${fields.length}`);
    const [platform, input, expected] = fields.map(trimGo) as [string, string, string];
    if (!['A', 'U', 'W'].includes(platform)) throw new Error(`envVarTest:${i + 1}: bad platform ${platform}`);
    if (platform !== 'W') out.push({ line: i + 1, input, expected });
  });
  return out;
}

// FORMAT.md section 5: ENV lines accumulate, tests are `input | w1,w2`.
interface WordsCase { line: number; input: string; expected: string[]; env: Map<string, string> }

function wordsCases(): WordsCase[] {
  if (!corpusPresent) return [];
  const out: WordsCase[] = [];
  const env = new Map<string, string>();
  const lines = readCorpus('frontend/dockerfile/shell/wordsTest').split('\n');
  if (lines.at(-1) === '') lines.pop(); // the file's final newline ends the last line, it adds none
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) return;
    if (line.startsWith('ENV ')) {
      const def = line.slice(4).replace(/^ +/, '');
      const eq = def.indexOf('=');
      if (eq < 0) env.set(def, '');
      else env.set(def.slice(0, eq), def.slice(eq + 1));
      return;
    }
    const fields = line.split('|');
    if (fields.length !== 2) throw new Error(`wordsTest:${i + 1}: want 2 fields, got ${fields.length}`);
    out.push({ line: i + 1, input: trimGo(fields[0]!), expected: fields[1]!.replace(/^ +/, '').split(','), env: new Map(env) });
  });
  return out;
}

const envCases = envVarCases();
const wCases = wordsCases();
const ENV = new Map([['PWD', '/home'], ['SHELL', 'bash'], ['KOREAN', '한국어'], ['NULL', '']]);

describe('buildkit shell corpus', () => {
  it(`is present at ${CORPUS}`, () => {
    expect(corpusPresent).toBe(true);
  });

  it('has every envVarTest A/U line and every wordsTest case', () => {
    expect(envCases).toHaveLength(228);
    expect(wCases).toHaveLength(24);
  });

  describe('envVarTest (single word)', () => {
    it.each(envCases)('line $line: $input', ({ input, expected }) => {
      const lex = new ShellLex('\\');
      if (expected === 'error') {
        expect(() => lex.processWord(input, ENV)).toThrow();
      } else {
        expect(lex.processWord(input, ENV).result).toBe(expected);
      }
    });
  });

  describe('wordsTest (word splitting)', () => {
    it.each(wCases)('line $line: $input', ({ input, expected, env }) => {
      let got: string[];
      try {
        got = new ShellLex('\\').processWords(input, env).words;
      } catch {
        got = ['error'];
      }
      expect(got).toEqual(expected);
    });
  });
});
