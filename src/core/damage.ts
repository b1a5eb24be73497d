/**
 * StoreDamage is one piece of damage found in a store (what an OS crash, a full disk or a
 * failing disk can leave: an empty metadata file, a torn record, a blob whose bytes do not
 * match its digest) and what was done about it. The modules that heal damage on the way
 * report it through an OnDamage callback: a build renders each as a one-line warning and
 * goes on, `tsbuild fsck` as a line of its report.
 */
export interface StoreDamage {
  /** What is damaged, named for the user: `snapshot 0123456789abcdef`, `cache record sha256:…`. */
  what: string;
  /** What is wrong with it: `diffid file is empty`. */
  problem: string;
  /** What was done (or, when fixed is false, what is left to do): `removed; extracted again from its layer when needed`. */
  action: string;
  /** Whether the damage is gone: false in a dry run, or when nothing could be done about it. */
  fixed: boolean;
}

/** OnDamage receives damage as it is found (and healed); it must not throw. */
export type OnDamage = (d: StoreDamage) => void;

/** ignoreDamage heals without telling anyone (library use, tests that do not look). */
export const ignoreDamage: OnDamage = () => {};

/** damageLine is one damage as one line: `WHAT: PROBLEM: ACTION`. */
export function damageLine(d: StoreDamage): string {
  return `${d.what}: ${d.problem}: ${d.action}`;
}

/** damageWarning is the one-line warning a command prints for damage it healed on the way. */
export function damageWarning(d: StoreDamage): string {
  return `damaged ${damageLine(d)}`;
}
