import { describe, expect, it } from 'vitest';
import { dump, failure, one } from './helpers.ts';

describe('instruction flags', () => {
  it('COPY --from, --chown, --chmod, --link, --parents, --exclude (repeatable)', () => {
    const c = one('COPY --from=build --chown=1:2 --chmod=0755 --link --parents --exclude=*.md --exclude=tmp/ a /b', 'COPY');
    expect(c).toMatchObject({ from: 'build', chown: '1:2', chmod: '0755', link: true, parents: true, exclude: ['*.md', 'tmp/'] });
    expect(c.flags.map((f) => f.name)).toEqual(['from', 'chown', 'chmod', 'link', 'parents', 'exclude', 'exclude']);
    expect(c.flags[3]).toEqual({ name: 'link', value: null });
  });

  it('booleans accept --x, --x=true, --x=false (any case)', () => {
    expect(one('COPY --link=true a b', 'COPY').link).toBe(true);
    expect(one('COPY --link=FALSE a b', 'COPY').link).toBe(false);
    expect(one('COPY --parents=false a b', 'COPY').parents).toBe(false);
    expect(failure('COPY --link=yes a b')).toMatchObject({ code: 'PARSE_FLAG', at: '1:6', message: 'expecting boolean value for flag --link, not: yes' });
    expect(failure('COPY --link= a b').message).toBe('missing a value on flag: --link');
  });

  it('ADD --chown, --chmod, --link, --checksum, --keep-git-dir, --exclude, --unpack', () => {
    const a = one('ADD --checksum=sha256:abc --keep-git-dir=true --chown=app --chmod=644 --link --exclude=x --unpack=false https://e.example/x.tar /x/', 'ADD');
    expect(a).toMatchObject({ checksum: 'sha256:abc', keepGitDir: true, chown: 'app', chmod: '644', link: true, exclude: ['x'], unpack: false });
    expect(one('ADD a b', 'ADD').keepGitDir).toBeUndefined();
    expect(one('ADD a b', 'ADD').unpack).toBeUndefined();
    expect(one('ADD --unpack a b', 'ADD').unpack).toBe(true);
    expect(failure('ADD  --unpack=no a b')).toMatchObject({ code: 'PARSE_FLAG', at: '1:6', message: 'expecting boolean value for flag --unpack, not: no' });
  });

  it('COPY-only and ADD-only flags are unknown on the other', () => {
    expect(failure('ADD --from=x a b')).toMatchObject({ at: '1:5', message: 'unknown flag: --from' });
    expect(failure('ADD --parents a b').message).toBe('unknown flag: --parents');
    expect(failure('COPY --checksum=x a b').message).toBe('unknown flag: --checksum');
    expect(failure('COPY --keep-git-dir a b').message).toBe('unknown flag: --keep-git-dir');
  });

  it('RUN --mount (repeatable), --network, --security', () => {
    const r = one('RUN --mount=type=cache,target=/c --mount=type=secret,id=s --network=none --security=insecure make', 'RUN');
    expect(r).toMatchObject({ mounts: ['type=cache,target=/c', 'type=secret,id=s'], network: 'none', security: 'insecure', cmd: { form: 'shell', command: 'make' } });
    expect(failure('RUN --network=bridge x')).toMatchObject({ at: '1:5', message: expect.stringMatching(/network mode "bridge" not supported/) });
    expect(failure('RUN --security=x y').message).toMatch(/security mode "x" not supported/);
    expect(failure('RUN --network x').message).toBe('missing a value on flag: --network');
  });

  it('RUN --mount values are checked when parsing, at the flag', () => {
    // Each bad value names the flag that holds it (the second one here, column 34).
    expect(failure('RUN --mount=type=cache,target=/a --mount=type=bogus,target=/x y')).toMatchObject({ code: 'PARSE_FLAG', at: '1:34', message: expect.stringMatching(/unsupported mount type "bogus"/) });
    expect(failure('RUN --mount=type=cache,sharing=sometimes,target=/c y').message).toMatch(/invalid sharing "sometimes"/);
    expect(failure('RUN --mount=type=cache y').message).toMatch(/a cache mount needs target=/);
    expect(failure('RUN --mount=type=tmpfs y').message).toMatch(/a tmpfs mount needs target=/);
    expect(failure('RUN --mount=type=cache,target=/c,uid=root y').message).toMatch(/invalid value for uid: root/);
    expect(failure('RUN --mount=type=secret,id=s,mode=999 y').message).toMatch(/invalid value for mode: 999/);
    expect(failure('RUN --mount=type=bind,target=/x,ro=maybe y').message).toMatch(/invalid value for readonly: maybe/);
    // A value with a variable is checked once expanded, when the step runs.
    expect(one('RUN --mount=type=$T,target=/c y', 'RUN').mounts).toEqual(['type=$T,target=/c']);
    expect(one('RUN --mount=target=/src y', 'RUN').mounts).toEqual(['target=/src']);
  });

  it('FROM --platform', () => {
    expect(one('FROM --platform=$BUILDPLATFORM a', 'FROM').platform).toBe('$BUILDPLATFORM');
    expect(failure('FROM --plattform=x a').message).toBe('unknown flag: --plattform (did you mean --platform?)');
  });

  it('HEALTHCHECK --interval, --timeout, --start-period, --start-interval (ns) and --retries', () => {
    const h = one('HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2h --start-interval=1.5s --retries=4 CMD x', 'HEALTHCHECK');
    expect(h).toMatchObject({ interval: 90e9, timeout: 500e6, startPeriod: 7200e9, startInterval: 1.5e9, retries: 4 });
    expect(one('HEALTHCHECK --timeout=0s --retries=0 CMD x', 'HEALTHCHECK')).toMatchObject({ timeout: 0, retries: 0 });
    expect(failure('HEALTHCHECK --interval=5 CMD x').message).toMatch(/--interval: invalid duration "5"/);
    expect(failure('HEALTHCHECK --timeout=10us CMD x').message).toBe('--timeout cannot be less than 1ms');
    expect(failure('HEALTHCHECK --retries=-1 CMD x').message).toBe('--retries cannot be negative (-1)');
    expect(failure('HEALTHCHECK --retries=two CMD x').message).toBe('--retries: invalid integer "two"');
    expect(failure('HEALTHCHECK --interval=1s NONE').message).toBe('unknown flag: --interval');
  });

  it('a single-valued flag given twice is an error', () => {
    expect(failure('COPY --from=a --from=b x y')).toMatchObject({ at: '1:15', message: 'duplicate flag specified: --from' });
    expect(failure('COPY --link --link x y').message).toBe('duplicate flag specified: --link');
  });

  it('instructions without flags reject any', () => {
    for (const src of ['CMD --x a', 'ENV --x a=b', 'LABEL --x a=b', 'USER --x u', 'WORKDIR --x /', 'EXPOSE --x 1', 'VOLUME --x /v', 'ARG --x a', 'STOPSIGNAL --x 9', 'MAINTAINER --x me', 'ENTRYPOINT --x a', 'SHELL --x ["a"]', 'ONBUILD --x RUN a']) {
      expect(failure(src)).toMatchObject({ code: 'PARSE_FLAG', message: 'unknown flag: --x' });
    }
  });

  it('flag words: quotes and escapes are removed; -- ends the flags', () => {
    expect(one('COPY --chown="a b" x y', 'COPY').chown).toBe('a b');
    expect(one("COPY --exclude='*.md' --exclude=a\\ b x y", 'COPY').exclude).toEqual(['*.md', 'a b']);
    expect(one('COPY --from=a -- --notaflag y', 'COPY').sources).toEqual(['--notaflag']);
    expect(dump('COPY --x="a b" -- c d')).toBe('(copy ["--x=a b"] "c" "d")');
    expect(dump('COPY --x=\'it\\\'s\' c d')).toBe('(copy ["--x=it\'s"] "c" "d")');
  });

  it('a word starting with a single dash is an argument', () => {
    expect(one('COPY -x y', 'COPY').sources).toEqual(['-x']);
  });
});
