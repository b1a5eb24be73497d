/** Env is a variable scope for expansion: name → value (a set-but-empty value is ""). */
export type Env = ReadonlyMap<string, string>;

/**
 * Expander is the shell-word expansion the planner needs (implemented over the
 * parser's shell lexer and injected, so the planner does not depend on it).
 */
export interface Expander {
  /** word expands one word: quotes removed, escapes processed, $VARs substituted, no splitting. */
  word(text: string, env: Env): string;
  /** words expands and splits into words (as for EXPOSE/VOLUME lists). */
  words(text: string, env: Env): string[];
}

/** envFromList turns `K=V` strings (image config Env) into a Map; later entries win. */
export function envFromList(list: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i < 0) m.set(kv, '');
    else m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return m;
}

/** setEnv replaces or appends KEY=VALUE in an Env list, keeping the original order (as Docker does). */
export function setEnv(list: readonly string[], key: string, value: string): string[] {
  const out = [...list];
  const i = out.findIndex((kv) => kv === key || kv.startsWith(`${key}=`));
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}
