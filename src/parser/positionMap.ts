import type { Pos } from './cst.ts';

/**
 * PositionMap maps an offset in a joined instruction line back to the
 * physical line and column it came from. Each continuation fragment adds one
 * segment; offsets inside a segment advance the column one per code unit.
 */
export class PositionMap {
  private readonly offsets: number[] = [];
  private readonly lines: number[] = [];
  private readonly cols: number[] = [];

  /** add starts a segment: text from offset on comes from (line, col). */
  add(offset: number, line: number, col: number): void {
    this.offsets.push(offset);
    this.lines.push(line);
    this.cols.push(col);
  }

  /** at returns the physical position of an offset in the joined line. */
  at(offset: number): Pos {
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: this.lines[lo]!, col: this.cols[lo]! + (offset - this.offsets[lo]!) };
  }
}
