import type { Request } from './request.ts';
import { trimGo } from './goText.ts';
import type {
  ArgDecl, ArgInstruction, EnvInstruction, ExposeInstruction, FromInstruction, KeyValue, LabelInstruction,
  MaintainerInstruction, StopsignalInstruction, UserInstruction, VolumeInstruction, WorkdirInstruction,
} from './types.ts';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** buildFrom: FROM [--platform=...] image [AS name]. The stage name is lower-cased, as Docker does. */
export function buildFrom(r: Request): FromInstruction {
  const f = r.flags({ platform: 'string' });
  const n = r.args.length;
  if (n !== 1 && !(n === 3 && r.args[1]!.value.toLowerCase() === 'as')) {
    throw r.error('FROM requires either one or three arguments (FROM image [AS name])', r.args[1]?.pos ?? r.node.argsPos);
  }
  const out: FromInstruction = { ...r.base(f.raw), kind: 'FROM', image: r.args[0]!.value };
  if (n === 3) {
    const name = r.args[2]!;
    const lower = name.value.toLowerCase();
    if (!STAGE_NAME.test(lower)) throw r.error(`invalid name for build stage: "${name.value}", name can't start with a number or contain symbols`, name.pos);
    out.stageName = lower;
  }
  const platform = f.str('platform');
  if (platform !== undefined) out.platform = platform;
  return out;
}

/** keyValues reads the (key, value, sep) triples of ENV/LABEL; keys may not be blank. */
function keyValues(r: Request): KeyValue[] {
  r.atLeastOne();
  const pairs: KeyValue[] = [];
  for (let i = 0; i < r.args.length; i += 3) {
    const key = r.args[i]!;
    if (key.value === '') throw r.error(`${r.name} names can not be blank`, key.pos);
    pairs.push({ key: key.value, value: r.args[i + 1]?.value ?? '' });
  }
  return pairs;
}

/** buildEnv: ENV key=value... or the legacy ENV key value. Values stay raw (quotes kept, unexpanded). */
export function buildEnv(r: Request): EnvInstruction {
  const flags = r.flags({}).raw;
  return { ...r.base(flags), kind: 'ENV', pairs: keyValues(r) };
}

/** buildLabel: LABEL key=value... or the legacy LABEL key value. */
export function buildLabel(r: Request): LabelInstruction {
  const flags = r.flags({}).raw;
  return { ...r.base(flags), kind: 'LABEL', pairs: keyValues(r) };
}

/** buildArg: ARG name[=default]...; the default stays raw. */
export function buildArg(r: Request): ArgInstruction {
  const flags = r.flags({}).raw;
  r.atLeastOne();
  const args: ArgDecl[] = r.args.map((a) => {
    const eq = a.value.indexOf('=');
    const decl: ArgDecl = eq < 0 ? { key: a.value } : { key: a.value.slice(0, eq), value: a.value.slice(eq + 1) };
    if (decl.key === '') throw r.error('ARG names can not be blank', a.pos);
    return decl;
  });
  return { ...r.base(flags), kind: 'ARG', args };
}

/** buildExpose: EXPOSE port[/proto]...; ports stay raw (they may use variables). */
export function buildExpose(r: Request): ExposeInstruction {
  const flags = r.flags({}).raw;
  r.atLeastOne();
  return { ...r.base(flags), kind: 'EXPOSE', ports: r.args.map((a) => a.value) };
}

/** buildVolume: VOLUME path... or VOLUME ["path", ...]; no path may be empty. */
export function buildVolume(r: Request): VolumeInstruction {
  const flags = r.flags({}).raw;
  r.atLeastOne();
  for (const a of r.args) if (trimGo(a.value) === '') throw r.error('VOLUME specified can not be an empty string', a.pos);
  return { ...r.base(flags), kind: 'VOLUME', paths: r.args.map((a) => a.value) };
}

/** buildUser: USER user[:group]. */
export function buildUser(r: Request): UserInstruction {
  const flags = r.flags({}).raw;
  return { ...r.base(flags), kind: 'USER', user: r.exactlyOne().value };
}

/** buildWorkdir: WORKDIR path. */
export function buildWorkdir(r: Request): WorkdirInstruction {
  const flags = r.flags({}).raw;
  return { ...r.base(flags), kind: 'WORKDIR', path: r.exactlyOne().value };
}

/** buildStopsignal: STOPSIGNAL signal. */
export function buildStopsignal(r: Request): StopsignalInstruction {
  const flags = r.flags({}).raw;
  return { ...r.base(flags), kind: 'STOPSIGNAL', signal: r.exactlyOne().value };
}

/** buildMaintainer: MAINTAINER name (deprecated, still accepted). */
export function buildMaintainer(r: Request): MaintainerInstruction {
  const flags = r.flags({}).raw;
  return { ...r.base(flags), kind: 'MAINTAINER', name: r.exactlyOne().value };
}
