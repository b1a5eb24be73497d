import { describe, expect, test } from 'vitest';
import { RACY_MS, isRacy } from '../../../src/context/StatCache.ts';

// isRacy: a remembered hash is trusted only for a file whose timestamps are older than the
// read by more than their granularity (judged from the timestamp) plus RACY_MS.

const at = (mtimeMs: number, ctimeMs = mtimeMs) => ({ mtimeMs, ctimeMs });

describe('isRacy', () => {
  test.each([
    // [mtime, ctime, read at, racy]
    [1_000.123456, 1_000.123456, 1_000.123456 + RACY_MS + 1, false], // nanosecond times: RACY_MS is enough
    [1_000.123456, 1_000.123456, 1_000.123456 + RACY_MS - 1, true],
    [11_000, 11_000, 11_250, true], // whole seconds (ext4 -I 128, NFS): written up to 1 s after the stamp
    [11_000, 11_000, 11_000 + 1000 + RACY_MS + 1, false],
    [10_000, 10_000, 10_000 + 1000 + RACY_MS + 1, true], // even seconds may be FAT's 2-second stamps
    [10_000, 10_000, 10_000 + 2000 + RACY_MS + 1, false],
    [1_000.5, 20_000, 20_300, true], // a coarse ctime counts as much as the mtime
    [1_010, 1_010, 1_010 + 10 + RACY_MS + 1, false], // exFAT's 10 ms
  ])('mtime %d ctime %d read at %d: racy %s', (m, c, t, racy) => {
    expect(isRacy(at(m, c), t)).toBe(racy);
  });
});
