export * from './digest.ts';
export * from './errors.ts';
export * from './range.ts';
export * from './assertNever.ts';
export * from './damage.ts';
