/** Palette colours the few marks tsbuild's output has; without colour each is the text itself. */
export interface Palette {
  readonly enabled: boolean;
  /** ✔ */
  ok(s: string): string;
  /** ✖ and `error:` */
  bad(s: string): string;
  /** ⚠ and `WARNING:` */
  warn(s: string): string;
  /** CACHED, log lines and hints: what matters less */
  dim(s: string): string;
}

const sgr = (on: string, off: string) => (s: string) => `\x1b[${on}m${s}\x1b[${off}m`;

/** COLOR and NO_COLOR_PALETTE are the two palettes (SGR sequences: green, bold red, yellow, dim). */
const COLOR: Palette = { enabled: true, ok: sgr('32', '39'), bad: sgr('1;31', '22;39'), warn: sgr('33', '39'), dim: sgr('2', '22') };
const PLAIN: Palette = { enabled: false, ok: (s) => s, bad: (s) => s, warn: (s) => s, dim: (s) => s };

/**
 * useColor decides whether output to a stream gets colours: FORCE_COLOR (set, and not `0` or
 * `false`) turns them on even for a pipe, then NO_COLOR (set and not empty, no-color.org) turns
 * them off; otherwise a terminal that is not `TERM=dumb` gets them and nothing else does.
 * FORCE_COLOR wins over NO_COLOR, as in Node itself.
 */
export function useColor(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  return isTTY && env.TERM !== 'dumb';
}

/** palette gives the colouring functions, or the identity ones when colour is off. */
export function palette(color: boolean): Palette {
  return color ? COLOR : PLAIN;
}
