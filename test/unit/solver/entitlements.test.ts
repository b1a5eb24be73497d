import { describe, expect, test } from 'vitest';
import { parseBuildfile } from '../../../src/parser/index.ts';
import { planBuild } from '../../../src/planner/stages.ts';
import { shellExpander } from '../../../src/solver/expander.ts';
import { platformArgs } from '../../../src/solver/platform.ts';
import { checkEntitlements, requireEntitlements, type Entitlement } from '../../../src/solver/entitlements.ts';

function plan(text: string, target?: string) {
  return planBuild(parseBuildfile(text, 'Buildfile'), { buildArgs: new Map(), expand: shellExpander('\\'), platformArgs: platformArgs(), ...(target ? { target } : {}) });
}
const none = new Set<Entitlement>();

describe('entitlements', () => {
  test('RUN --security=insecure needs security.insecure; the error names its line', () => {
    const p = plan('FROM busybox\nRUN true\nRUN --security=insecure true\n');
    expect(() => checkEntitlements(p, none)).toThrow(expect.objectContaining({ code: 'NOT_ALLOWED', message: 'security.insecure is not allowed', range: expect.objectContaining({ startLine: 3 }) }));
    expect(() => checkEntitlements(p, new Set(['network.host']))).toThrow('security.insecure is not allowed');
    expect(() => checkEntitlements(p, new Set(['security.insecure']))).not.toThrow();
  });

  test('sandbox, network modes and other instructions need nothing', () => {
    expect(() => checkEntitlements(plan('FROM busybox\nRUN --security=sandbox --network=host true\nCOPY a b\n'), none)).not.toThrow();
  });

  test('only the stages the target needs are checked, as BuildKit solves only those', () => {
    const text = 'FROM busybox AS tools\nRUN --security=insecure true\nFROM busybox AS app\nRUN true\n';
    expect(() => checkEntitlements(plan(text, 'app'), none)).not.toThrow();
    expect(() => checkEntitlements(plan(text, 'tools'), none)).toThrow('security.insecure is not allowed');
  });

  test('an instruction on its own (an ONBUILD trigger, checked when it runs)', () => {
    const [, run] = parseBuildfile('FROM x\nRUN --security=insecure true\n', 'Buildfile').instructions;
    expect(() => requireEntitlements(run!, none)).toThrow('security.insecure is not allowed');
  });
});
