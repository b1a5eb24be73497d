import type { Request } from './request.ts';
import type { CopyInstruction } from './types.ts';
import type { FlagSpec } from './flags.ts';

const COPY_FLAGS: FlagSpec = { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' };
const ADD_FLAGS: FlagSpec = { chown: 'string', chmod: 'string', link: 'bool', exclude: 'strings', checksum: 'string', 'keep-git-dir': 'bool', unpack: 'bool' };

/**
 * buildCopy: COPY/ADD [flags] src... dest (or the JSON form). Sources stay
 * raw (unexpanded); a heredoc source is written `<<NAME` and its body is in
 * heredocs. COPY takes --from and --parents; ADD takes --checksum,
 * --keep-git-dir and --unpack.
 */
export function buildCopy(r: Request): CopyInstruction {
  const isAdd = r.name === 'ADD';
  const f = r.flags(isAdd ? ADD_FLAGS : COPY_FLAGS);
  if (r.args.length < 2) {
    throw r.error(`${r.name} requires at least two arguments, but only ${r.args.length === 0 ? 'none was' : 'one was'} provided. Destination could not be determined`, r.args[0]?.pos ?? r.node.argsPos);
  }
  const out: CopyInstruction = {
    ...r.base(f.raw),
    kind: isAdd ? 'ADD' : 'COPY',
    sources: r.args.slice(0, -1).map((a) => a.value),
    dest: r.args.at(-1)!.value,
    heredocs: r.node.heredocs,
    link: f.bool('link') ?? false,
    parents: f.bool('parents') ?? false,
    exclude: f.list('exclude'),
  };
  const strings = { from: 'from', chown: 'chown', chmod: 'chmod', checksum: 'checksum' } as const;
  for (const [field, flag] of Object.entries(strings) as Array<[keyof typeof strings, string]>) {
    const v = f.str(flag);
    if (v !== undefined) out[field] = v;
  }
  const keep = f.bool('keep-git-dir');
  if (keep !== undefined) out.keepGitDir = keep;
  const unpack = f.bool('unpack');
  if (unpack !== undefined) out.unpack = unpack;
  return out;
}
