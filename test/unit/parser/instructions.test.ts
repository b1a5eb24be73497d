import { describe, expect, it } from 'vitest';
import { failure, one, parse } from './helpers.ts';

describe('each instruction becomes its typed form', () => {
  it('FROM image, FROM image AS name (stage name lower-cased), --platform', () => {
    expect(one('FROM alpine:3.19', 'FROM')).toMatchObject({ image: 'alpine:3.19', keyword: 'FROM' });
    const f = one('from --platform=linux/arm64 golang as Build', 'FROM');
    expect(f).toMatchObject({ image: 'golang', stageName: 'build', platform: 'linux/arm64', keyword: 'from' });
    expect(f.flags).toEqual([{ name: 'platform', value: 'linux/arm64' }]);
  });

  it('FROM with two or four arguments, or a bad stage name, is an error', () => {
    expect(failure('FROM a b').message).toMatch(/FROM requires either one or three arguments/);
    expect(failure('FROM a AS b c').message).toMatch(/one or three/);
    expect(failure('FROM a AS 1st')).toMatchObject({ at: '1:11', message: expect.stringMatching(/invalid name for build stage/) });
    expect(failure('FROM').message).toMatch(/one or three/);
  });

  it('RUN in shell and exec form', () => {
    expect(one('RUN echo  "hi"  && ls', 'RUN').cmd).toEqual({ form: 'shell', command: 'echo  "hi"  && ls' });
    expect(one('RUN ["sh", "-c", "echo hi"]', 'RUN').cmd).toEqual({ form: 'exec', args: ['sh', '-c', 'echo hi'] });
    expect(one('RUN', 'RUN').cmd).toEqual({ form: 'shell', command: '' });
  });

  it('CMD and ENTRYPOINT in both forms; CMD [] is an empty exec form', () => {
    expect(one('CMD ["a", "b"]', 'CMD').cmd).toEqual({ form: 'exec', args: ['a', 'b'] });
    expect(one('CMD []', 'CMD').cmd).toEqual({ form: 'exec', args: [] });
    expect(one('CMD a b', 'CMD').cmd).toEqual({ form: 'shell', command: 'a b' });
    expect(one('ENTRYPOINT ["/bin/app"]', 'ENTRYPOINT').cmd).toEqual({ form: 'exec', args: ['/bin/app'] });
    expect(one('ENTRYPOINT exec app', 'ENTRYPOINT').cmd).toEqual({ form: 'shell', command: 'exec app' });
  });

  it('LABEL in key=value and legacy form, quotes kept raw', () => {
    expect(one('LABEL a=1 "b c"="d e" f=g\\ h', 'LABEL').pairs).toEqual([
      { key: 'a', value: '1' }, { key: '"b c"', value: '"d e"' }, { key: 'f', value: 'g\\ h' },
    ]);
    expect(one('LABEL maintainer Jane Doe <j@d.example>', 'LABEL').pairs).toEqual([{ key: 'maintainer', value: 'Jane Doe <j@d.example>' }]);
  });

  it('MAINTAINER keeps its whole text', () => {
    expect(one('MAINTAINER Jane Doe <j@d.example>', 'MAINTAINER').name).toBe('Jane Doe <j@d.example>');
    expect(failure('MAINTAINER').message).toBe('MAINTAINER requires exactly one argument');
  });

  it('EXPOSE lists ports raw', () => {
    expect(one('EXPOSE 80/tcp 443 ${PORT}', 'EXPOSE').ports).toEqual(['80/tcp', '443', '${PORT}']);
    expect(failure('EXPOSE').message).toBe('EXPOSE requires at least one argument');
  });

  it('ENV in every form; legacy without value is an error', () => {
    expect(one('ENV A=1 B="2 3" C=${A}', 'ENV').pairs).toEqual([{ key: 'A', value: '1' }, { key: 'B', value: '"2 3"' }, { key: 'C', value: '${A}' }]);
    expect(one('ENV PATH /usr/bin:/bin  more', 'ENV').pairs).toEqual([{ key: 'PATH', value: '/usr/bin:/bin  more' }]);
    expect(failure('ENV PATH')).toMatchObject({ code: 'PARSE_SYNTAX', message: 'ENV must have two arguments' });
    expect(failure('ENV A=1 B').message).toMatch(/can't find = in "B"/);
    expect(failure('ENV =1').message).toBe('ENV names can not be blank');
    expect(failure('ENV').message).toBe('ENV requires at least one argument');
  });

  it('ADD and COPY with sources and destination, list and JSON form', () => {
    expect(one('COPY a b /dst/', 'COPY')).toMatchObject({ sources: ['a', 'b'], dest: '/dst/', link: false, parents: false, exclude: [] });
    expect(one('ADD ["a b", "/c d/"]', 'ADD')).toMatchObject({ kind: 'ADD', sources: ['a b'], dest: '/c d/' });
    expect(failure('COPY onlyone').message).toMatch(/COPY requires at least two arguments, but only one was provided/);
    expect(failure('ADD').message).toMatch(/ADD requires at least two arguments/);
  });

  it('VOLUME in list and JSON form; an empty path is an error', () => {
    expect(one('VOLUME /a /b', 'VOLUME').paths).toEqual(['/a', '/b']);
    expect(one('VOLUME ["/a", "/b c"]', 'VOLUME').paths).toEqual(['/a', '/b c']);
    expect(failure('VOLUME [""]').message).toBe('VOLUME specified can not be an empty string');
  });

  it('USER, WORKDIR and STOPSIGNAL take their whole text', () => {
    expect(one('USER app:app', 'USER').user).toBe('app:app');
    expect(one('WORKDIR /my dir', 'WORKDIR').path).toBe('/my dir');
    expect(one('STOPSIGNAL SIGTERM', 'STOPSIGNAL').signal).toBe('SIGTERM');
    expect(failure('WORKDIR').message).toBe('WORKDIR requires exactly one argument');
  });

  it('ARG with and without defaults, several per line', () => {
    expect(one('ARG A B=2 C="x y"', 'ARG').args).toEqual([{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '"x y"' }]);
    expect(one('ARG E=', 'ARG').args).toEqual([{ key: 'E', value: '' }]);
    expect(failure('ARG').message).toBe('ARG requires at least one argument');
    expect(failure('ARG =x').message).toBe('ARG names can not be blank');
  });

  it('ONBUILD nests a typed trigger and keeps its expression', () => {
    const o = one('ONBUILD RUN echo hi', 'ONBUILD');
    expect(o.expression).toBe('RUN echo hi');
    expect(o.trigger).toMatchObject({ kind: 'RUN', cmd: { form: 'shell', command: 'echo hi' } });
    expect(o.trigger.range).toMatchObject({ startLine: 1, startCol: 9 });
    expect(one('onbuild copy --from=x a b', 'ONBUILD').trigger).toMatchObject({ kind: 'COPY', from: 'x' });
  });

  it('ONBUILD ONBUILD, ONBUILD FROM, ONBUILD MAINTAINER and a bare ONBUILD are errors', () => {
    expect(failure('ONBUILD ONBUILD RUN x')).toMatchObject({ at: '1:9', message: "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed" });
    expect(failure('ONBUILD FROM x')).toMatchObject({ at: '1:9', message: "FROM isn't allowed as an ONBUILD trigger" });
    expect(failure('ONBUILD maintainer me').message).toBe("MAINTAINER isn't allowed as an ONBUILD trigger");
    expect(failure('ONBUILD').message).toBe('ONBUILD requires at least one argument');
    expect(failure('ONBUILD RUNX a')).toMatchObject({ code: 'UNKNOWN_INSTRUCTION', at: '1:9' });
  });

  it('SHELL needs the JSON form', () => {
    expect(one('SHELL ["/bin/bash", "-c"]', 'SHELL').args).toEqual(['/bin/bash', '-c']);
    expect(failure('SHELL /bin/bash -c')).toMatchObject({ at: '1:7', message: 'SHELL requires the arguments to be in JSON form' });
    expect(failure('SHELL []').message).toBe('SHELL requires at least one argument');
  });

  it('HEALTHCHECK NONE and CMD', () => {
    expect(one('HEALTHCHECK NONE', 'HEALTHCHECK')).toMatchObject({ test: 'NONE' });
    expect(one('HEALTHCHECK CMD curl -f http://x/', 'HEALTHCHECK')).toMatchObject({ test: 'CMD', cmd: { form: 'shell', command: 'curl -f http://x/' } });
    expect(one('healthcheck cmd ["curl", "x"]', 'HEALTHCHECK')).toMatchObject({ test: 'CMD', cmd: { form: 'exec', args: ['curl', 'x'] } });
    expect(failure('HEALTHCHECK').message).toBe('HEALTHCHECK requires at least one argument');
    expect(failure('HEALTHCHECK CMD').message).toBe('Missing command after HEALTHCHECK CMD');
    expect(failure('HEALTHCHECK NONE x').message).toBe('HEALTHCHECK NONE takes no arguments');
    expect(failure('HEALTHCHECK CONNECT TCP 7000')).toMatchObject({ at: '1:13', message: expect.stringMatching(/unknown type "CONNECT"/) });
  });

  it('keywords are case-insensitive and keep their spelling', () => {
    const all = parse('fRoM a\nRun b\ncopy c d\n');
    expect(all.map((i) => [i.kind, i.keyword])).toEqual([['FROM', 'fRoM'], ['RUN', 'Run'], ['COPY', 'copy']]);
  });

  it('unknown instructions are errors with a suggestion', () => {
    expect(failure('FROM a\nRUNN x')).toEqual({ code: 'UNKNOWN_INSTRUCTION', at: '2:1', message: 'unknown instruction: RUNN (did you mean RUN?)' });
    expect(failure('FROM a\n  FROBNICATE x').message).toBe('unknown instruction: FROBNICATE');
    // Two letters swapped is one typo.
    expect(failure('FORM a').message).toBe('unknown instruction: FORM (did you mean FROM?)');
    expect(failure('FROM a\nCOYP . .').message).toBe('unknown instruction: COYP (did you mean COPY?)');
  });

  it('original is the joined logical line', () => {
    expect(one('RUN a \\\n  b', 'RUN').original).toBe('RUN a   b');
  });
});
