/** Nanoseconds per unit of Go's time.ParseDuration. */
const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const PART = /^([0-9]*(?:\.[0-9]*)?)([a-z\u00b5\u03bc]+)/;

/**
 * parseGoDuration reads a Go duration (`30s`, `1m30s`, `500ms`, `1.5h`, `0`)
 * into nanoseconds, or returns undefined when s is not one. A sign is allowed,
 * as in Go; values past 2^53 ns (about 104 days) are refused.
 */
export function parseGoDuration(s: string): number | undefined {
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) { sign = rest[0] === '-' ? -1 : 1; rest = rest.slice(1); }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (m === null) return undefined;
    const [whole, num, unit] = m as unknown as [string, string, string];
    const scale = UNITS[unit];
    if (scale === undefined || num === '' || num === '.') return undefined;
    total += Number(num) * scale;
    rest = rest.slice(whole.length);
  }
  const ns = Math.round(total);
  return ns > Number.MAX_SAFE_INTEGER ? undefined : sign * ns;
}
