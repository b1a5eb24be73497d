import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsbuild } from '../../helpers/cli.ts';

/** A Buildfile that is not UTF-8 text is refused with one located line and a hint, never parsed. */

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'tsbuild-encoding-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = 'FROM busybox\nRUN echo hi\n';
const utf16le = (s: string) => Buffer.from(s, 'utf16le');
const utf16be = (s: string) => utf16le(s).swap16();

async function parse(name: string, bytes: Buffer) {
  writeFileSync(join(dir, name), bytes);
  return tsbuild(['parse', '-f', name], { cwd: dir });
}

describe('Buildfile encoding', () => {
  const UTF8_HINT = '  hint: save it as UTF-8\n';
  test.each([
    ['UTF-16 LE with a BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le(TEXT)]), 'the file is UTF-16 (little-endian), not UTF-8'],
    ['UTF-16 LE without a BOM', utf16le(TEXT), 'the file is UTF-16 (little-endian), not UTF-8'],
    ['UTF-16 BE with a BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(TEXT)]), 'the file is UTF-16 (big-endian), not UTF-8'],
    ['UTF-16 BE without a BOM', utf16be(TEXT), 'the file is UTF-16 (big-endian), not UTF-8'],
    ['UTF-32 LE with a BOM', Buffer.from([0xff, 0xfe, 0, 0, 0x46, 0, 0, 0]), 'the file is UTF-32 (little-endian), not UTF-8'],
  ])('%s: one line at 1:1 saying so, and how to fix it', async (_, bytes, message) => {
    const r = await parse('wide', bytes);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: wide:1:1: ${message}\n${UTF8_HINT}`);
  });

  test('a NUL byte is refused at its line and column', async () => {
    const r = await parse('nul', Buffer.from('FROM busybox\nRUN echo \0hi\n', 'latin1'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: nul:2:10: the file contains a NUL byte, which a text file does not have\n  hint: remove it, or check that this is the Buildfile and not a binary file\n');
  });

  test('invalid UTF-8 is refused at its line and column (BuildKit would pass the bytes on; we never replace them)', async () => {
    const r = await parse('latin1', Buffer.from('FROM busybox\nRUN echo café €\n', 'latin1'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: latin1:2:13: invalid UTF-8 (byte 0xe9): the file is not UTF-8\n${UTF8_HINT}`);
  });

  test('a UTF-8 BOM is accepted, as Docker does', async () => {
    const r = await parse('bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('FROM busybox\nRUN echo é\n')]));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('bom: 2 instructions, 1 stage\n');
  });

  test('build and `parse -f -` refuse it the same way', async () => {
    writeFileSync(join(dir, 'Buildfile'), utf16le(TEXT));
    const b = await tsbuild(['--root', join(dir, 'root'), 'build', '-f', 'Buildfile', '.'], { cwd: dir });
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(`error: Buildfile:1:1: the file is UTF-16 (little-endian), not UTF-8\n${UTF8_HINT}`);
    const s = await tsbuild(['parse', '-f', '-'], { cwd: dir, input: utf16le(TEXT) });
    expect(s.stderr).toBe(`error: <stdin>:1:1: the file is UTF-16 (little-endian), not UTF-8\n${UTF8_HINT}`);
  });
});
