/**
 * renderTable aligns rows of cells the way Docker's CLI does (Go text/tabwriter
 * with minwidth 10, padding 3, blanks): every cell but the last of a row is
 * padded to its column's width; the last cell is written as is. Widths count
 * code points. Returns the lines joined, each ending in `\n`.
 */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return;
      widths[i] = Math.max(widths[i] ?? MIN_WIDTH, [...cell].length + PADDING);
    });
  }
  let out = '';
  for (const row of rows) {
    out += row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length))).join('');
    out += '\n';
  }
  return out;
}

const MIN_WIDTH = 10;
const PADDING = 3;
