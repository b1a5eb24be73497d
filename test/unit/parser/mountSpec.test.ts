import { describe, expect, test } from 'vitest';
import { parseMount } from '../../../src/parser/mountSpec.ts';

const id = (s: string) => s;

describe('parseMount (RUN --mount)', () => {
  test('bind: default type, read-only unless rw, source defaults to the root', () => {
    expect(parseMount('target=/ctx', '/', id)).toEqual({ type: 'bind', target: '/ctx', source: '/', readonly: true });
    expect(parseMount('type=bind,src=dir,dst=/d,rw', '/', id)).toEqual({ type: 'bind', target: '/d', source: 'dir', readonly: false });
    expect(parseMount('type=bind,from=build,source=/out,target=rel,readonly=false', '/work', id)).toEqual({ type: 'bind', target: '/work/rel', source: '/out', from: 'build', readonly: false });
  });

  test('cache: id defaults to the target, shared, writable, 0755 root', () => {
    expect(parseMount('type=cache,target=/root/.cache', '/', id)).toEqual({ type: 'cache', target: '/root/.cache', id: '/root/.cache', sharing: 'shared', readonly: false, mode: 0o755, uid: 0, gid: 0 });
    expect(parseMount('type=cache,id=npm,target=/c,sharing=locked,mode=0700,uid=1000,gid=50,ro', '/', id)).toMatchObject({ id: 'npm', sharing: 'locked', mode: 0o700, uid: 1000, gid: 50, readonly: true });
  });

  test('secret: default target /run/secrets/ID, id from the target, 0400, optional', () => {
    expect(parseMount('type=secret,id=tok', '/', id)).toEqual({ type: 'secret', target: '/run/secrets/tok', id: 'tok', required: false, mode: 0o400, uid: 0, gid: 0 });
    expect(parseMount('type=secret,target=/etc/app/key,required', '/', id)).toMatchObject({ id: 'key', target: '/etc/app/key', required: true });
  });

  test('tmpfs and expansion', () => {
    expect(parseMount('type=tmpfs,target=/scratch,size=1048576', '/', id)).toEqual({ type: 'tmpfs', target: '/scratch', size: 1048576 });
    expect(parseMount('type=cache,target=$DIR', '/', (s) => s.replace('$DIR', '/var/cache'))).toMatchObject({ target: '/var/cache' });
    // from= stays literal (BuildKit knows stage dependencies before build args).
    expect(parseMount('type=bind,from=$S,source=$DIR,target=/m', '/', (s) => s.replaceAll('$S', 'build').replaceAll('$DIR', '/d'))).toMatchObject({ from: '$S', source: '/d' });
  });

  test.each([
    ['type=ssh', /unsupported mount type/], // not supported
    ['type=cache', /needs target/], // cache without target
    ['type=cache,target=/c,sharing=sometimes', /invalid sharing/], // unknown sharing mode
    ['type=cache,target=/c,mode=999', /invalid value for mode/], // mode is octal
    ['type=secret', /needs id= or target=/], // nothing to name the secret
    ['type=bind,target=/x,ro=maybe', /invalid value for readonly/], // not a boolean
  ])('%s is refused', (raw, msg) => {
    expect(() => parseMount(raw, '/', id)).toThrow(msg);
  });
});
