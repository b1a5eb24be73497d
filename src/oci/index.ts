export * from './types.ts';
export * from './mediaTypes.ts';
export * from './canonicalJson.ts';
