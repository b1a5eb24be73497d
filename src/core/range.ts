/** SourceRange locates an instruction in a Buildfile. Lines and columns are 1-based; endLine is inclusive. */
export interface SourceRange {
  file: string;
  startLine: number;
  startCol: number;
  endLine: number;
  endCol: number;
}

/** formatLocation renders `file:line:col`, the prefix of every Buildfile error. */
export function formatLocation(r: SourceRange): string {
  return `${r.file}:${r.startLine}:${r.startCol}`;
}
