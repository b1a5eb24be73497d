/**
 * Human-readable sizes and durations with the exact shapes Docker's CLI prints
 * (go-units HumanSizeWithPrecision and HumanDuration), so columns read the same.
 */

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/**
 * humanSize renders bytes in decimal units with 3 significant digits and no
 * space, as `docker images` and `docker history` do: 0 → `0B`, 1234 → `1.23kB`,
 * 126_400_000 → `126MB`.
 */
export function humanSize(bytes: number): string {
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < SIZE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${formatG3(v)}${SIZE_UNITS[i]}`;
}

/** formatG3 is Go's `%.3g` for values in [0, 1000): 3 significant digits, trailing zeros dropped. */
function formatG3(v: number): string {
  const s = v.toPrecision(3);
  if (s.includes('e')) return String(Number(s));
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * humanDuration renders an elapsed time the way Docker's CLI does in CREATED
 * and STATUS columns: `Less than a second`, `5 seconds`, `About a minute`,
 * `12 minutes`, `About an hour`, `3 hours`, `4 days`, `2 weeks`, `3 months`, `2 years`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** since renders `humanDuration(now - t) ago`, or '' when t is missing or unparsable (as Docker shows N/A times). */
export function since(t: string | undefined, now: Date): string {
  if (!t) return '';
  const at = Date.parse(t);
  if (Number.isNaN(at)) return '';
  return `${humanDuration(Math.max(0, now.getTime() - at))} ago`;
}

/**
 * ellipsis shortens s to at most max characters (code points), the last one
 * being `…`, as Docker truncates CREATED BY and COMMAND.
 */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, max).join('');
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** shortId is Docker's 12-hex-digit form of an image or container id (`sha256:` dropped). */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
