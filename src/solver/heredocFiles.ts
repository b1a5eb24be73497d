import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import type { Env, Expander } from '../planner/expand.ts';
import type { CopyInstruction, Heredoc } from '../parser/types.ts';

/** isHeredocSource tells a COPY/ADD source written `<<NAME` (its body is in the instruction's heredocs). */
export function isHeredocSource(source: string): boolean {
  return /^<<-?/.test(source);
}

/** heredocBody is a heredoc's content as a file: `<<-` strips leading tabs; unquoted delimiters expand variables. */
export function heredocBody(h: Heredoc, expand: Expander, env: Env): string {
  const body = h.chomp ? h.content.replace(/^\t+/gm, '') : h.content;
  return h.expand ? expand.word(body, env) : body;
}

/** HeredocDir is a scratch directory holding one file per heredoc source, named after its delimiter. */
export interface HeredocDir {
  dir: string;
  /** The file names to select, in source order. */
  names: string[];
  cleanup(): Promise<void>;
}

/**
 * writeHeredocFiles writes the heredoc sources of a COPY/ADD as files (mode 0644, as
 * BuildKit's "preparing inline document") into a fresh directory under tmpDir, so they can
 * be copied with the usual destination rules.
 */
export async function writeHeredocFiles(ins: CopyInstruction, tmpDir: string, expand: Expander, env: Env): Promise<HeredocDir> {
  const dir = await mkdtemp(join(tmpDir, 'heredoc-'));
  const names: string[] = [];
  for (const h of ins.heredocs) {
    if (h.name.includes('/') || h.name === '.' || h.name === '..') throw new TsbuildError('USAGE', `heredoc name "${h.name}" cannot be a file name`, { range: ins.range });
    const f = join(dir, h.name);
    await writeFile(f, heredocBody(h, expand, env));
    await chmod(f, 0o644);
    names.push(h.name);
  }
  return { dir, names, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
