import { describe, expect, test } from 'vitest';
import { DEFAULT_PATH, containerConfig, processEnv } from '../../../src/containers/runConfig.ts';
import type { ContainerConfig } from '../../../src/oci/types.ts';

const image: ContainerConfig = {
  Env: ['PATH=/bin', 'A=1'],
  Entrypoint: ['/entry'],
  Cmd: ['default'],
  WorkingDir: '/app',
  User: 'app',
  OnBuild: ['RUN x'],
};

describe('containerConfig (Docker run semantics)', () => {
  test('no overrides: ENTRYPOINT + CMD, config kept, ONBUILD dropped', () => {
    const r = containerConfig(image, { env: [], cmd: [] });
    expect(r.argv).toEqual(['/entry', 'default']);
    expect(r.config).toMatchObject({ Env: ['PATH=/bin', 'A=1'], WorkingDir: '/app', User: 'app', Cmd: ['default'], Entrypoint: ['/entry'] });
    expect(r.config.OnBuild).toBeUndefined();
  });

  test('a command after IMAGE replaces CMD, not ENTRYPOINT', () => {
    expect(containerConfig(image, { env: [], cmd: ['x', 'y'] }).argv).toEqual(['/entry', 'x', 'y']);
  });

  test('--entrypoint replaces ENTRYPOINT and drops the image CMD; "" resets it', () => {
    expect(containerConfig(image, { env: [], cmd: [], entrypoint: '/bin/sh' }).argv).toEqual(['/bin/sh']);
    const r = containerConfig(image, { env: [], cmd: ['ls'], entrypoint: '' });
    expect(r.argv).toEqual(['ls']);
    expect(r.config.Entrypoint).toBeNull();
  });

  test('-e replaces by name or appends, in order; -w and -u override', () => {
    const r = containerConfig(image, { env: ['A=2', 'B=x=y', 'A=3'], cmd: [], workdir: '/w', user: '0:0' });
    expect(r.config.Env).toEqual(['PATH=/bin', 'A=3', 'B=x=y']);
    expect(r.config.WorkingDir).toBe('/w');
    expect(r.config.User).toBe('0:0');
  });

  test('errors: nothing to run, relative -w', () => {
    expect(() => containerConfig({}, { env: [], cmd: [] })).toThrow('No command specified');
    expect(() => containerConfig(image, { env: [], cmd: [], workdir: 'rel' })).toThrow(/needs to be an absolute path/);
  });
});

describe('processEnv', () => {
  test('PATH default, HOSTNAME, TERM with a tty, then the config Env wins by name', () => {
    expect(processEnv({}, 'abc', false)).toEqual([`PATH=${DEFAULT_PATH}`, 'HOSTNAME=abc']);
    expect(processEnv({ Env: ['PATH=/x', 'Z=1'] }, 'abc', true)).toEqual(['PATH=/x', 'HOSTNAME=abc', 'TERM=xterm', 'Z=1']);
  });
});
