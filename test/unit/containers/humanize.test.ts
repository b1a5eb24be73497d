import { describe, expect, test } from 'vitest';
import { ellipsis, humanDuration, humanSize, shortId, since } from '../../../src/containers/format/humanize.ts';

describe('humanSize (Docker: 3 significant digits, decimal units)', () => {
  test.each([
    [0, '0B'],
    [9, '9B'],
    [999, '999B'],
    [1000, '1kB'],
    [1234, '1.23kB'],
    [4_261_234, '4.26MB'],
    [126_400_000, '126MB'],
    [77_800_000, '77.8MB'],
    [1_500_000_000, '1.5GB'],
  ])('%d → %s', (n, want) => {
    expect(humanSize(n)).toBe(want);
  });
});

describe('humanDuration (Docker: go-units HumanDuration)', () => {
  const s = 1000;
  const h = 3600 * s;
  test.each([
    [500, 'Less than a second'],
    [1 * s, '1 second'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [120 * s, '2 minutes'],
    [59 * 60 * s, '59 minutes'],
    [60 * 60 * s, 'About an hour'],
    [90 * 60 * s, '2 hours'], // rounded to the nearest hour
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * 24 * h, '13 days'],
    [14 * 24 * h, '2 weeks'],
    [60 * 24 * h, '2 months'],
    [800 * 24 * h, '2 years'],
  ])('%d ms → %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  test('since adds "ago"; a missing or bad time is empty', () => {
    const now = new Date('2024-05-01T12:00:10Z');
    expect(since('2024-05-01T12:00:00Z', now)).toBe('10 seconds ago');
    expect(since(undefined, now)).toBe('');
    expect(since('yesterday-ish', now)).toBe('');
  });
});

describe('ellipsis and shortId', () => {
  test('ellipsis keeps short text and cuts long text to max characters ending in …', () => {
    expect(ellipsis('abc', 3)).toBe('abc');
    expect(ellipsis('abcdef', 4)).toBe('abc…');
    expect([...ellipsis('ünïcödé-ünïcödé', 5)]).toHaveLength(5);
  });
  test('shortId is 12 hex digits without sha256:', () => {
    expect(shortId(`sha256:${'ab'.repeat(32)}`)).toBe('abababababab');
    expect(shortId('0123456789abcdef')).toBe('0123456789ab');
  });
});
