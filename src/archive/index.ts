export * from './saveImages.ts';
export * from './loadArchive.ts';
export * from './readArchive.ts';
export * from './ingest.ts';
export * from './tarWriter.ts';
