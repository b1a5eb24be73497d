import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** repoRoot is the checkout this test runs from. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** CORPUS is the BuildKit conformance corpus, kept beside the repository (../shared/conformance/buildkit). */
export const CORPUS = resolve(repoRoot, '../shared/conformance/buildkit');

/** corpusPresent tells whether the corpus folder exists; the suites fail (never skip) without it. */
export const corpusPresent = existsSync(join(CORPUS, 'FORMAT.md'));

/** corpusPath joins a path inside the corpus. */
export function corpusPath(...parts: string[]): string {
  return join(CORPUS, ...parts);
}

/** caseDirs lists the case folders under a corpus directory (empty when the corpus is missing). */
export function caseDirs(...parts: string[]): string[] {
  if (!corpusPresent) return [];
  return readdirSync(corpusPath(...parts), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** readCorpus reads a corpus file as UTF-8, byte-exact (no normalisation). */
export function readCorpus(...parts: string[]): string {
  return readFileSync(corpusPath(...parts), 'utf8');
}
