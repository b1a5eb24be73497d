import { describe, expect, test } from 'vitest';
import { applyChanges } from '../../../src/containers/changes.ts';
import type { ImageConfig } from '../../../src/oci/types.ts';

const base: ImageConfig = {
  architecture: 'amd64', os: 'linux',
  config: { Env: ['PATH=/bin', 'HOME=/root'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [] },
};

describe('applyChanges (commit --change)', () => {
  test('Buildfile syntax, in order, with variables from the config', () => {
    const out = applyChanges(base, [
      'ENV APP=/opt/app',
      'WORKDIR $APP',
      'CMD ["node", "server.js"]',
      'EXPOSE 8080',
      'LABEL version=1',
      'USER 1000:1000',
      'VOLUME /data',
      'STOPSIGNAL SIGINT',
      'ONBUILD RUN echo hi',
    ]).config;
    expect(out).toMatchObject({
      Env: ['PATH=/bin', 'HOME=/root', 'APP=/opt/app'],
      WorkingDir: '/opt/app',
      Cmd: ['node', 'server.js'],
      ExposedPorts: { '8080/tcp': {} },
      Labels: { version: '1' },
      User: '1000:1000',
      Volumes: { '/data': {} },
      StopSignal: 'SIGINT',
      OnBuild: ['RUN echo hi'],
    });
    expect(base.config.Env).toEqual(['PATH=/bin', 'HOME=/root']); // the input is not changed
  });

  test('ENTRYPOINT drops a CMD not set by an earlier change; shell form runs through /bin/sh -c', () => {
    expect(applyChanges(base, ['ENTRYPOINT node app.js']).config).toMatchObject({ Entrypoint: ['/bin/sh', '-c', 'node app.js'], Cmd: null });
    expect(applyChanges(base, ['CMD ["x"]', 'ENTRYPOINT ["e"]']).config).toMatchObject({ Entrypoint: ['e'], Cmd: ['x'] });
  });

  test.each([
    ['RUN echo hi', 'RUN is not a valid change command'],
    ['COPY a b', 'COPY is not a valid change command'],
    ['FOO bar', /unknown instruction/i],
    ['ENV A=1\nENV B=2', 'want exactly one instruction'],
  ])('%j is refused', (change, msg) => {
    expect(() => applyChanges(base, [change])).toThrow(msg);
  });
});
