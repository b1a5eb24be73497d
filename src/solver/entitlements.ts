import { TsbuildError } from '../core/errors.ts';
import type { Instruction } from '../parser/types.ts';
import type { BuildPlan } from '../planner/stages.ts';

/** Entitlement is what `tsbuild build --allow` grants (BuildKit's names). */
export type Entitlement = 'security.insecure' | 'network.host';

/** ENTITLEMENTS lists every entitlement --allow accepts. */
export const ENTITLEMENTS: readonly Entitlement[] = ['security.insecure', 'network.host'];

/**
 * requireEntitlements refuses an instruction that needs an entitlement the build was
 * not given, as BuildKit's solver does: `RUN --security=insecure` needs security.insecure.
 * (RUN --network=host needs nothing here: host networking is already every step's default.)
 */
export function requireEntitlements(ins: Instruction, allowed: ReadonlySet<Entitlement>): void {
  if (ins.kind !== 'RUN' || ins.security !== 'insecure' || allowed.has('security.insecure')) return;
  throw new TsbuildError('NOT_ALLOWED', 'security.insecure is not allowed', { range: ins.range, hint: 'pass --allow security.insecure to tsbuild build to run this step with every capability and no seccomp' });
}

/** checkEntitlements runs requireEntitlements over every instruction of the stages a build needs, before any of them runs. */
export function checkEntitlements(plan: BuildPlan, allowed: ReadonlySet<Entitlement>): void {
  for (const i of plan.needed) for (const ins of plan.stages[i]!.instructions) requireEntitlements(ins, allowed);
}
