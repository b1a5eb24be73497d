import { describe, expect, test } from 'vitest';
import { parseBuildfile } from '../../../src/parser/index.ts';
import { planBuild } from '../../../src/planner/stages.ts';
import { shellExpander } from '../../../src/solver/expander.ts';
import { platformArgs } from '../../../src/solver/platform.ts';

function plan(text: string, buildArgs: Record<string, string> = {}, target?: string) {
  return planBuild(parseBuildfile(text, 'Buildfile'), {
    buildArgs: new Map(Object.entries(buildArgs)),
    expand: shellExpander('\\'),
    platformArgs: platformArgs(),
    ...(target ? { target } : {}),
  });
}

describe('planBuild', () => {
  test('splits stages and resolves FROM of an earlier stage', () => {
    const p = plan('FROM busybox AS base\nRUN a\nFROM base\nRUN b\n');
    expect(p.stages).toHaveLength(2);
    expect(p.stages[0]!.base).toEqual({ kind: 'image', ref: 'busybox' });
    expect(p.stages[1]!.base).toEqual({ kind: 'stage', index: 0 });
    expect(p.needed).toEqual([0, 1]);
  });

  test('global ARGs expand FROM, and --build-arg overrides their defaults', () => {
    expect(plan('ARG TAG=1\nFROM img:${TAG}\n').stages[0]!.base).toEqual({ kind: 'image', ref: 'img:1' });
    expect(plan('ARG TAG=1\nFROM img:${TAG}\n', { TAG: '2' }).stages[0]!.base).toEqual({ kind: 'image', ref: 'img:2' });
  });

  test('only the stages the target needs are built', () => {
    const text = 'FROM busybox AS a\nRUN a\nFROM busybox AS b\nRUN b\nFROM busybox AS c\nCOPY --from=a /x /x\n';
    expect(plan(text).needed).toEqual([0, 2]);
    expect(plan(text, {}, 'b').needed).toEqual([1]);
  });

  test('COPY --from by index and scratch bases', () => {
    const p = plan('FROM scratch\nCOPY a /a\nFROM busybox\nCOPY --from=0 /a /a\n');
    expect(p.stages[0]!.base).toEqual({ kind: 'scratch' });
    expect(p.stages[1]!.deps).toEqual([0]);
  });

  test.each([
    ['RUN x\nFROM busybox\n', /before the first FROM/], // an instruction before FROM
    ['ARG X\n', /no FROM/], // no stage at all
    ['FROM a AS x\nFROM b AS x\n', /duplicate stage name/], // two stages with one name
    ['FROM a AS 1x\n', /invalid (stage name|name for build stage)/], // a name not starting with a letter
  ])('rejects %j', (text, msg) => {
    expect(() => plan(text)).toThrow(msg);
  });

  test('an unknown --target is an error listing the stages', () => {
    expect(() => plan('FROM a AS one\n', {}, 'two')).toThrow(/target stage "two" could not be found/);
  });
});
