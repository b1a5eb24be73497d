import { expect, test } from 'vitest';
import { parseBuildfile } from '../../../src/parser/index.ts';
import type { MetaInstruction } from '../../../src/planner/meta.ts';
import { applyMeta } from '../../../src/planner/meta.ts';
import { emptyConfig, type StageState } from '../../../src/planner/state.ts';
import { shellExpander } from '../../../src/solver/expander.ts';
import { sha256Of } from '../../../src/core/digest.ts';

function run(lines: string, buildArgs: Record<string, string> = {}) {
  const s: StageState = { config: emptyConfig(), layers: [], key: sha256Of('x'), args: new Map(), lastCreated: '' };
  const created: string[] = [];
  const ctx = { expand: shellExpander('\\'), buildArgs: new Map(Object.entries(buildArgs)), globalArgs: new Map(), usedArgs: new Set<string>() };
  for (const ins of parseBuildfile(`FROM scratch\n${lines}`, 'Buildfile').instructions.slice(1)) {
    created.push(applyMeta(s, ins as MetaInstruction, ctx) ?? "");
  }
  return { s, created, ctx };
}

test('ENV expands with earlier ENV and keeps order; later values replace', () => {
  const { s, created } = run('ENV A=1 B=x\nENV C=$A-${B} A=2\n');
  expect(s.config.config.Env).toEqual(['A=2', 'B=x', 'C=1-x']);
  expect(created[1]).toBe('ENV C=1-x A=2');
});

test('ARG values come from --build-arg, else the default; ENV wins over ARG in expansion', () => {
  const { s, ctx } = run('ARG X=dflt\nARG Y\nENV Y=env\nWORKDIR /$X/$Y\n', { X: 'given' });
  expect(s.config.config.WorkingDir).toBe('/given/env');
  expect([...ctx.usedArgs]).toEqual(['X']);
});

test('CMD and ENTRYPOINT use SHELL for the shell form; ENTRYPOINT clears an inherited CMD', () => {
  const { s } = run('SHELL ["/bin/bash", "-c"]\nCMD echo hi\n');
  expect(s.config.config.Cmd).toEqual(['/bin/bash', '-c', 'echo hi']);
  const inherited: StageState = { config: { ...emptyConfig(), config: { Cmd: ['old'] } }, layers: [], key: sha256Of('x'), args: new Map(), lastCreated: '' };
  const ins = parseBuildfile('FROM scratch\nENTRYPOINT ["/e"]\n', 'B').instructions[1] as MetaInstruction;
  applyMeta(inherited, ins, { expand: shellExpander('\\'), buildArgs: new Map(), globalArgs: new Map(), usedArgs: new Set() });
  expect(inherited.config.config.Entrypoint).toEqual(['/e']);
  expect(inherited.config.config.Cmd).toBeNull();
});

test('EXPOSE normalises ports and ranges, VOLUME, LABEL, USER, STOPSIGNAL, HEALTHCHECK', () => {
  const { s } = run('EXPOSE 80 53/udp 8000-8001\nVOLUME ["/data"]\nLABEL a=b "c d"=e\nUSER app:staff\nSTOPSIGNAL SIGKILL\nHEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost\n');
  const c = s.config.config;
  expect(Object.keys(c.ExposedPorts ?? {})).toEqual(['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
  expect(c.Volumes).toEqual({ '/data': {} });
  expect(c.Labels).toEqual({ a: 'b', 'c d': 'e' });
  expect(c.User).toBe('app:staff');
  expect(c.StopSignal).toBe('SIGKILL');
  expect(c.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 5_000_000_000, Retries: 2 });
});

test('WORKDIR resolves relative paths against the current one', () => {
  expect(run('WORKDIR /a\nWORKDIR b\nWORKDIR ../c\n').s.config.config.WorkingDir).toBe('/a/c');
});

test('CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER keep $VAR as written (the shell or the child build expands)', () => {
  const { s } = run('ARG X=arg\nENV Y=env\nCMD echo $X ${Y}\nENTRYPOINT ["/bin/$X", "$Y"]\nSHELL ["/bin/$Y", "-c"]\nHEALTHCHECK CMD test $Y\nONBUILD RUN echo $X\nMAINTAINER $Y\n');
  const c = s.config.config;
  expect(c.Cmd).toEqual(['/bin/sh', '-c', 'echo $X ${Y}']);
  expect(c.Entrypoint).toEqual(['/bin/$X', '$Y']);
  expect(c.Shell).toEqual(['/bin/$Y', '-c']);
  expect(c.Healthcheck?.Test).toEqual(['CMD-SHELL', 'test $Y']);
  expect(c.OnBuild).toEqual(['RUN echo $X']);
  expect(s.config.author).toBe('$Y');
  // The builder does expand these, with the same scope.
  const e = run('ARG X=arg\nENV Y=env\nWORKDIR /$X\nUSER $Y\nLABEL l=$X\nSTOPSIGNAL $Y\n').s.config.config;
  expect([e.WorkingDir, e.User, e.Labels?.l, e.StopSignal]).toEqual(['/arg', 'env', 'arg', 'env']);
});
