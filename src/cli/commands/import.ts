import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';

/** importCommand: not implemented yet (being written). */
export const importCommand: Command = async () => {
  throw new TsbuildError('USAGE', 'import: not implemented yet');
};
