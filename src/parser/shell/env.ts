/** ShellEnv is the variables a word is expanded against: a Map, or a record where undefined means unset. */
export type ShellEnv = ReadonlyMap<string, string> | Readonly<Record<string, string | undefined>>;

/** lookupEnv reads one variable; undefined means unset (an empty string is set). */
export function lookupEnv(env: ShellEnv, name: string): string | undefined {
  if (env instanceof Map) return env.get(name);
  const rec = env as Readonly<Record<string, string | undefined>>;
  return Object.prototype.hasOwnProperty.call(rec, name) ? rec[name] : undefined;
}
