import type { Instruction } from './types.ts';

/**
 * EXPANDING_KINDS are the instructions whose arguments (and flag values) get
 * ARG/ENV variables expanded by the builder, per the Dockerfile reference:
 * ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, and
 * ARG (its default values). Notes:
 * - FROM sees only the ARGs declared before the first FROM (global args).
 * - RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and MAINTAINER are not expanded
 *   by the builder: a shell-form command is handed to the shell as written,
 *   and the shell expands it at run time (exec form is never expanded).
 * - ONBUILD is not expanded when declared; its trigger is parsed and
 *   expanded in the child build, where it runs.
 * - Heredoc bodies are not expanded by the builder either; for RUN the shell
 *   does it, and `expand: false` (a quoted delimiter) means nobody should.
 */
export const EXPANDING_KINDS: ReadonlySet<Instruction['kind']> = new Set<Instruction['kind']>([
  'ADD', 'COPY', 'ENV', 'EXPOSE', 'FROM', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR', 'ARG',
]);

/** expandsVariables tells whether the builder expands ARG/ENV variables in an instruction of this kind. */
export function expandsVariables(kind: Instruction['kind']): boolean {
  return EXPANDING_KINDS.has(kind);
}
