import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../../src/parser/index.ts';

describe('parseGoDuration (Go time.ParseDuration)', () => {
  it.each([
    ['0', 0], ['30s', 30e9], ['1m30s', 90e9], ['500ms', 500e6], ['1.5h', 5400e9], ['2h45m', 9900e9],
    ['10us', 10e3], ['10µs', 10e3], ['7ns', 7], ['.5s', 500e6], ['1.s', 1e9], ['-1s', -1e9], ['+2m', 120e9],
  ])('%s = %d ns', (s, ns) => {
    expect(parseGoDuration(s)).toBe(ns);
  });

  it.each(['', '5', 's', '1x', '1s ', ' 1s', '1d', '.s', '1..5s', '-', '1e3s'])('%j is not a duration', (s) => {
    expect(parseGoDuration(s)).toBeUndefined();
  });
});
