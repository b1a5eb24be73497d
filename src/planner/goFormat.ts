import { goQuote } from '../parser/goText.ts';
import type { HealthConfig } from '../oci/types.ts';

/**
 * goFormat: the few Go fmt renderings that Docker 20.10's BuildKit writes into history
 * lines (created_by), so our history reads byte for byte like Docker's.
 */

/** goQuotedList is `%q` of a []string: `["a" "b"]`. */
export function goQuotedList(xs: readonly string[]): string {
  return `[${xs.map(goQuote).join(' ')}]`;
}

/** goPlainList is `%v` of a []string: `[a b]`. */
export function goPlainList(xs: readonly string[]): string {
  return `[${xs.join(' ')}]`;
}

/** goSetMap is `%v` of a map[string]struct{}: keys sorted, `map[80/tcp:{} 443/tcp:{}]`. */
export function goSetMap(keys: Iterable<string>): string {
  return `map[${[...new Set(keys)].sort().map((k) => `${k}:{}`).join(' ')}]`;
}

const UNITS: Array<[number, string]> = [[1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];

/** goDuration is Go's time.Duration.String() for nanoseconds: `0s`, `250ms`, `1m30s`, `1h0m0s`, `1.5s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let d = Math.abs(ns);
  let out: string;
  if (d < 1e9) {
    const [unit, name] = UNITS.find(([u]) => d >= u) ?? [1, 'ns'];
    out = `${fraction(d, unit)}${name}`;
  } else {
    const h = Math.floor(d / 3.6e12);
    d -= h * 3.6e12;
    const m = Math.floor(d / 6e10);
    d -= m * 6e10;
    const s = `${fraction(d, 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function fraction(v: number, unit: number): string {
  const whole = Math.floor(v / unit);
  const rest = v - whole * unit;
  if (rest === 0) return String(whole);
  const digits = String(unit).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

const RUNE_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };

/** goQuoteRune is `%q` of an int (strconv.QuoteRune): `'\x00'`, `'\n'`, `'A'`. */
export function goQuoteRune(n: number): string {
  const esc = RUNE_ESCAPES[n];
  if (esc) return `'${esc}'`;
  if (n < 0x20 || n === 0x7f) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCodePoint(n)}'`;
}

/**
 * goHealthcheck is `%q` of BuildKit's *HealthConfig (Test, Interval, Timeout, StartPeriod,
 * Retries) as Docker 20.10 writes it: `&{["CMD" "true"] "5s" "3s" "0s" '\x04'}`.
 */
export function goHealthcheck(h: HealthConfig): string {
  const d = (v: number | undefined) => `"${goDuration(v ?? 0)}"`;
  return `&{${goQuotedList(h.Test ?? [])} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${goQuoteRune(h.Retries ?? 0)}}`;
}
