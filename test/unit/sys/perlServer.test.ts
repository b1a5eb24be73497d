import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { SCRIPT } from '../../../src/sys/perlServer.ts';

// Every caller falls back quietly when the server dies, so a script that does not even
// compile would only show as slowness: check it here, with warnings on.
test('the perl server script compiles under strict and warnings', () => {
  const r = spawnSync('/usr/bin/perl', ['-c', '-w', '-e', SCRIPT], { encoding: 'utf8' });
  expect(r.stderr.trim()).toBe('-e syntax OK');
  expect(r.status).toBe(0);
});
