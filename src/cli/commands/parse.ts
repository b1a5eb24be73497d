import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';

/** parseCommand: not implemented yet (being written). */
export const parseCommand: Command = async () => {
  throw new TsbuildError('USAGE', 'parse: not implemented yet');
};
