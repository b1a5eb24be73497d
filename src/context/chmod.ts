import { TsbuildError } from '../core/errors.ts';

/** ChmodSpec is a parsed --chmod: apply(mode, isDir) gives the new permission bits (0o7777). */
export interface ChmodSpec {
  /** The flag as written, for cache keys and messages. */
  readonly text: string;
  apply(mode: number, isDir: boolean): number;
  /** The octal value when the flag was octal (BuildKit also uses it for directories COPY creates). */
  readonly octal: number | undefined;
}

const OCTAL_RE = /^[0-7]+$/;

/**
 * parseChmod parses --chmod as BuildKit does: octal up to 07777 replaces the permission bits;
 * otherwise chmod(1) symbolic clauses (`u+x`, `go=rX`, `g=u`, comma separated) with umask 0,
 * where `X` sets execute only on directories and on files that already have an execute bit.
 */
export function parseChmod(flag: string | number): ChmodSpec {
  if (typeof flag === 'number') return octalSpec(flag, flag.toString(8));
  const text = flag.trim();
  if (OCTAL_RE.test(text) || /^\d+$/.test(text)) {
    const v = OCTAL_RE.test(text) ? parseInt(text, 8) : NaN;
    return octalSpec(v, text);
  }
  const clauses = text.split(',').map((c) => parseClause(c, text));
  return {
    text,
    octal: undefined,
    apply(mode, isDir) {
      let m = mode & 0o7777;
      for (const c of clauses) m = c(m, isDir);
      return m;
    },
  };
}

function octalSpec(v: number, text: string): ChmodSpec {
  if (!Number.isInteger(v) || v < 0 || v > 0o7777) {
    throw new TsbuildError('USAGE', `invalid chmod parameter: '${text}'. it should be octal string and between 0 and 07777`);
  }
  return { text, octal: v, apply: () => v };
}

type Clause = (mode: number, isDir: boolean) => number;

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007 };
const CLASS_SHIFT: Record<string, number> = { u: 6, g: 3, o: 0 };

function parseClause(clause: string, text: string): Clause {
  const m = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/.exec(clause);
  if (!m) throw new TsbuildError('USAGE', `invalid chmod parameter: '${text}': want octal (0755) or symbolic (u+x,go=rX)`);
  const whoText = m[1]!.includes('a') || m[1] === '' ? 'ugo' : m[1]!;
  const who = [...whoText].reduce((acc, c) => acc | WHO[c]!, 0);
  const ops = [...m[2]!.matchAll(/([-+=])([ugo]|[rwxXst]*)/g)].map((o) => ({ op: o[1]!, perm: o[2]! }));
  return (mode, isDir) => {
    let cur = mode;
    for (const { op, perm } of ops) {
      const bits = permBits(perm, cur, isDir) & who;
      if (op === '+') cur |= bits;
      else if (op === '-') cur &= ~bits;
      else cur = (cur & ~who) | bits;
    }
    return cur;
  };
}

/** permBits expands a perm list (or a copied class u/g/o) to bits for all classes; the caller masks by who. */
function permBits(perm: string, cur: number, isDir: boolean): number {
  if (perm === 'u' || perm === 'g' || perm === 'o') {
    const rwx = (cur >> CLASS_SHIFT[perm]!) & 7;
    return (rwx << 6) | (rwx << 3) | rwx;
  }
  let b = 0;
  for (const c of perm) {
    if (c === 'r') b |= 0o444;
    else if (c === 'w') b |= 0o222;
    else if (c === 'x') b |= 0o111;
    else if (c === 'X' && (isDir || (cur & 0o111) !== 0)) b |= 0o111;
    else if (c === 's') b |= 0o6000;
    else if (c === 't') b |= 0o1000;
  }
  return b;
}
