import { describe, expect, test } from 'vitest';
import { goDuration, goHealthcheck, goPlainList, goQuoteRune, goQuotedList, goSetMap } from '../../../src/planner/goFormat.ts';

describe('goFormat (Docker 20.10 history text)', () => {
  test.each([
    [0, '0s'],
    [5e9, '5s'],
    [90e9, '1m30s'],
    [250e6, '250ms'],
    [3600e9, '1h0m0s'],
    [1.5e9, '1.5s'],
    [1500, '1.5µs'],
    [7, '7ns'],
    [3661e9 + 1e8, '1h1m1.1s'],
  ])('goDuration(%d) = %s', (ns, want) => {
    expect(goDuration(ns)).toBe(want);
  });

  test.each([
    [0, "'\\x00'"],
    [4, "'\\x04'"],
    [10, "'\\n'"],
    [39, "'\\''"],
    [65, "'A'"],
    [127, "'\\x7f'"],
  ])('goQuoteRune(%d) = %s', (n, want) => {
    expect(goQuoteRune(n)).toBe(want);
  });

  test('lists and maps', () => {
    expect(goQuotedList(['/bin/sh', '-c', 'echo "x"'])).toBe('["/bin/sh" "-c" "echo \\"x\\""]');
    expect(goPlainList(['/data', '[/logs,'])).toBe('[/data [/logs,]');
    expect(goSetMap(['80/tcp', '443/tcp', '53/udp', '80/tcp'])).toBe('map[443/tcp:{} 53/udp:{} 80/tcp:{}]');
  });

  test('goHealthcheck prints the struct as %q does, zero fields included', () => {
    expect(goHealthcheck({ Test: ['CMD', '/bin/true'], Interval: 5e9, Timeout: 3e9, StartPeriod: 10e9, Retries: 4 })).toBe(`&{["CMD" "/bin/true"] "5s" "3s" "10s" '\\x04'}`);
    expect(goHealthcheck({ Test: ['NONE'] })).toBe(`&{["NONE"] "0s" "0s" "0s" '\\x00'}`);
  });
});
