export { ShellLex, processWord, processWords } from './ShellLex.ts';
export type { EscapeChar, ShellLexOptions, ProcessResult } from './ShellLex.ts';
export type { ShellEnv } from './env.ts';
export { lookupEnv } from './env.ts';
