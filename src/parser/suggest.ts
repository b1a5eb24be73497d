/**
 * editDistance is the optimal-string-alignment distance between a and b: insertions,
 * deletions, substitutions and swaps of two neighbouring characters cost one each, so
 * `FORM`, `biuld` and `--tags` are each one typo away from `FROM`, `build` and `--tag`.
 */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * suggest returns the candidate closest to word (case-insensitive), if it is close enough to be a
 * likely typo. It is the one suggestion function: Buildfile instructions and flags, and the CLI's
 * commands and flags.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  return bestD <= Math.max(1, Math.floor(w.length / 3)) ? best : undefined;
}
