/** assertNever makes a switch over a discriminated union exhaustive at compile time. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
