import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tsbuild } from '../../helpers/cli.ts';
import { busyboxSuite, imageOf, jsonEvents, writeTree } from '../../helpers/image.ts';

// The cache key of every layer step is its typed definition (src/solver/stepDef.ts). Each case
// below changes one flag or option of one instruction against its group's base Buildfile, on a
// root that holds the base's records, and says whether the output can change:
// - miss: the key must change (the step runs again);
// - hit: the change cannot change the output (flag order, another spelling of the same value,
//   an instruction that only touches the config), so the key must not change; and a cold build
//   of the variant (--no-cache) must give the very layer the hit reused, which catches a hit
//   that is in fact false.
// SOURCE_DATE_EPOCH makes every layer reproducible, so layers of cold and warm builds compare.

const suite = busyboxSuite({ beforeAll, afterAll });
const EPOCH = '1600000000';

interface Case {
  /** The variant's Buildfile (its last instruction is the step under test). */
  file: string;
  expect: 'hit' | 'miss';
  /** Context files changed or added over the group's. */
  files?: Record<string, string>;
  /** Build options over the group's. */
  args?: string[];
}

interface Group {
  base: string;
  files?: Record<string, string>;
  args?: string[];
  cases: Record<string, Case>;
}

let server: Server;
let url = '';
let served = 'served one\n';
let secrets = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/f.txt') res.end(served);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f.txt`;
  secrets = mkdtempSync(join(suite.t.dir, 'secrets-'));
  writeFileSync(join(secrets, 's1'), 'one\n');
  writeFileSync(join(secrets, 's2'), 'two\n');
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** appTar writes the same archive into dir every time; its entries belong to 1000:1000 (ADD keeps them unless --chown). */
function appTar(dir: string): void {
  const src = mkdtempSync(join(suite.t.dir, 'tar-'));
  writeTree(src, { 'app/bin.sh': 'echo app\n' });
  execFileSync('tar', ['--owner=1000', '--group=1000', '--numeric-owner', '--mtime=@1500000000', '--sort=name', '-C', src, '-cf', join(dir, 'app.tar'), 'app']);
}

/** records lists the cache records of the root (one file per key). */
function records(): Set<string> {
  try {
    return new Set(readdirSync(join(suite.t.root, 'cache/keys')));
  } catch {
    return new Set();
  }
}

/** forgetRecordsBut deletes the records made since keep was listed, so that every case is compared with its base alone. */
function forgetRecordsBut(keep: Set<string>): void {
  for (const r of records()) if (!keep.has(r)) rmSync(join(suite.t.root, 'cache/keys', r));
}

interface Built {
  cached: boolean;
  layer: string;
}

async function build(ctx: string, tag: string, args: string[]): Promise<Built> {
  const r = await tsbuild(['--root', suite.t.root, 'build', '--progress=json', '-t', tag, ...args, ctx], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  if (r.code !== 0) throw new Error(`build of ${tag} exited ${r.code}:\n${r.stderr}`);
  const ev = jsonEvents(r.stderr);
  const total = ev.find((e) => e.type === 'build.start').total as number;
  const layers = imageOf(suite.t.root, tag).manifest.layers as { digest: string }[];
  return { cached: ev.some((e) => e.type === 'step.cached' && e.step.index === total), layer: layers.at(-1)!.digest };
}

function context(files: Record<string, string>, buildfile: string, tar: boolean): string {
  const ctx = mkdtempSync(join(suite.t.dir, 'ctx-'));
  writeTree(ctx, { ...files, Buildfile: buildfile, '.dockerignore': 'Buildfile\n.dockerignore\n' });
  if (tar) appTar(ctx);
  return ctx;
}

const bb = 'FROM busybox\n';

const GROUPS: Record<string, () => Group> = {
  RUN: () => ({
    base: `${bb}RUN echo hi > /tmp/f\n`,
    cases: {
      'the same instruction': { file: `${bb}RUN echo hi > /tmp/f\n`, expect: 'hit' },
      'the exec form of the same argv': { file: `${bb}RUN ["/bin/sh", "-c", "echo hi > /tmp/f"]\n`, expect: 'hit' },
      'an exec form with another argv[0]': { file: `${bb}RUN ["sh", "-c", "echo hi > /tmp/f"]\n`, expect: 'miss' },
      'another command': { file: `${bb}RUN echo ho > /tmp/f\n`, expect: 'miss' },
      'the keyword spelled in lower case': { file: `${bb}run echo hi > /tmp/f\n`, expect: 'hit' },
      '--network=none': { file: `${bb}RUN --network=none echo hi > /tmp/f\n`, expect: 'miss' },
      '--network=default (host)': { file: `${bb}RUN --network=default echo hi > /tmp/f\n`, expect: 'hit' },
      '--network=host': { file: `${bb}RUN --network=host echo hi > /tmp/f\n`, expect: 'hit' },
      'build --network=none': { file: `${bb}RUN echo hi > /tmp/f\n`, args: ['--network', 'none'], expect: 'miss' },
      '--security=insecure': { file: `${bb}RUN --security=insecure echo hi > /tmp/f\n`, args: ['--allow', 'security.insecure'], expect: 'miss' },
      '--security=sandbox (the default)': { file: `${bb}RUN --security=sandbox echo hi > /tmp/f\n`, expect: 'hit' },
      'an ENV before it': { file: `${bb}ENV A=1\nRUN echo hi > /tmp/f\n`, expect: 'miss' },
      'a LABEL, CMD and EXPOSE before it': { file: `${bb}LABEL a=b\nCMD ["x"]\nEXPOSE 80\nRUN echo hi > /tmp/f\n`, expect: 'hit' },
      'an ARG with a value in scope': { file: `${bb}ARG A=1\nRUN echo hi > /tmp/f\n`, expect: 'miss' },
      'an ARG without a value': { file: `${bb}ARG A\nRUN echo hi > /tmp/f\n`, expect: 'hit' },
      'a build arg nothing declares': { file: `${bb}RUN echo hi > /tmp/f\n`, args: ['--build-arg', 'B=2'], expect: 'hit' },
      'a proxy build arg (not in the key, as BuildKit)': { file: `${bb}RUN echo hi > /tmp/f\n`, args: ['--build-arg', 'HTTP_PROXY=http://127.0.0.1:9'], expect: 'hit' },
      'USER': { file: `${bb}USER 1000\nRUN echo hi > /tmp/f\n`, expect: 'miss' },
      'WORKDIR / (config only, same cwd)': { file: `${bb}WORKDIR /\nRUN echo hi > /tmp/f\n`, expect: 'hit' },
      'SHELL with the same argv': { file: `${bb}SHELL ["/bin/sh", "-c"]\nRUN echo hi > /tmp/f\n`, expect: 'hit' },
      'SHELL with another shell': { file: `${bb}SHELL ["/bin/ash", "-c"]\nRUN echo hi > /tmp/f\n`, expect: 'miss' },
    },
  }),
  'RUN heredocs': () => ({
    base: `${bb}RUN <<EOF\necho hi > /f\nEOF\n`,
    cases: {
      'a quoted delimiter': { file: `${bb}RUN <<"EOF"\necho hi > /f\nEOF\n`, expect: 'hit' },
      'another delimiter': { file: `${bb}RUN <<END\necho hi > /f\nEND\n`, expect: 'hit' },
      '<<- with a tab-indented body': { file: `${bb}RUN <<-EOF\n\techo hi > /f\nEOF\n`, expect: 'hit' },
      'another body': { file: `${bb}RUN <<EOF\necho ho > /f\nEOF\n`, expect: 'miss' },
      'a shebang script': { file: `${bb}RUN <<EOF\n#!/bin/sh\necho hi > /f\nEOF\n`, expect: 'miss' },
      'a heredoc fed to a command': { file: `${bb}RUN cat <<EOF > /f\nhi\nEOF\n`, expect: 'miss' },
    },
  }),
  'RUN --mount': () => ({
    base: `${bb}RUN --network=none --mount=type=cache,target=/c echo hi > /f\n`,
    cases: {
      'flags in another order': { file: `${bb}RUN --mount=type=cache,target=/c --network=none echo hi > /f\n`, expect: 'hit' },
      'mount keys in another order': { file: `${bb}RUN --network=none --mount=target=/c,type=cache echo hi > /f\n`, expect: 'hit' },
      'dst= for target=': { file: `${bb}RUN --network=none --mount=type=cache,dst=/c echo hi > /f\n`, expect: 'hit' },
      'a relative target under WORKDIR /': { file: `${bb}RUN --network=none --mount=type=cache,target=c echo hi > /f\n`, expect: 'hit' },
      'the default id written out': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,id=/c echo hi > /f\n`, expect: 'hit' },
      'the default mode written out': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,mode=755 echo hi > /f\n`, expect: 'hit' },
      'the default owner written out': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,uid=0,gid=0 echo hi > /f\n`, expect: 'hit' },
      'sharing=locked (never the content)': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,sharing=locked echo hi > /f\n`, expect: 'hit' },
      'another cache id': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,id=other echo hi > /f\n`, expect: 'miss' },
      'another target': { file: `${bb}RUN --network=none --mount=type=cache,target=/d echo hi > /f\n`, expect: 'miss' },
      'a read-only cache': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,ro echo hi > /f\n`, expect: 'miss' },
      'another mode': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,mode=0700 echo hi > /f\n`, expect: 'miss' },
      'another uid': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,uid=1000 echo hi > /f\n`, expect: 'miss' },
      'another gid': { file: `${bb}RUN --network=none --mount=type=cache,target=/c,gid=1000 echo hi > /f\n`, expect: 'miss' },
      'a second mount': { file: `${bb}RUN --network=none --mount=type=cache,target=/c --mount=type=tmpfs,target=/t echo hi > /f\n`, expect: 'miss' },
      'a tmpfs instead': { file: `${bb}RUN --network=none --mount=type=tmpfs,target=/c echo hi > /f\n`, expect: 'miss' },
    },
  }),
  'RUN --mount=type=tmpfs': () => ({
    base: `${bb}RUN --mount=type=tmpfs,target=/t echo hi > /f\n`,
    cases: {
      'a size': { file: `${bb}RUN --mount=type=tmpfs,target=/t,size=1048576 echo hi > /f\n`, expect: 'miss' },
      'another target': { file: `${bb}RUN --mount=type=tmpfs,target=/u echo hi > /f\n`, expect: 'miss' },
    },
  }),
  'RUN --mount=type=bind from the context': () => ({
    base: `${bb}RUN --mount=type=bind,source=a.txt,target=/m/a.txt cat /m/a.txt > /f\n`,
    files: { 'a.txt': 'a\n', 'b.txt': 'b\n' },
    cases: {
      'another context file changed': { file: `${bb}RUN --mount=type=bind,source=a.txt,target=/m/a.txt cat /m/a.txt > /f\n`, files: { 'b.txt': 'B\n' }, expect: 'hit' },
      'src= and ./ for source=': { file: `${bb}RUN --mount=type=bind,src=./a.txt,target=/m/a.txt cat /m/a.txt > /f\n`, expect: 'hit' },
      'the mounted file changed': { file: `${bb}RUN --mount=type=bind,source=a.txt,target=/m/a.txt cat /m/a.txt > /f\n`, files: { 'a.txt': 'A\n' }, expect: 'miss' },
      'another source': { file: `${bb}RUN --mount=type=bind,source=b.txt,target=/m/a.txt cat /m/a.txt > /f\n`, expect: 'miss' },
      'another target': { file: `${bb}RUN --mount=type=bind,source=a.txt,target=/n/a.txt cat /n/a.txt > /f\n`, expect: 'miss' },
      'rw': { file: `${bb}RUN --mount=type=bind,source=a.txt,target=/m/a.txt,rw cat /m/a.txt > /f\n`, expect: 'miss' },
    },
  }),
  'RUN --mount=type=bind from a stage': () => ({
    base: `FROM busybox AS src\nRUN echo s > /s\n${bb}RUN --mount=type=bind,from=src,source=/s,target=/m cat /m > /f\n`,
    cases: {
      'the stage by index': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}RUN --mount=type=bind,from=0,source=/s,target=/m cat /m > /f\n`, expect: 'hit' },
      'the stage changed': { file: `FROM busybox AS src\nRUN echo S > /s\n${bb}RUN --mount=type=bind,from=src,source=/s,target=/m cat /m > /f\n`, expect: 'miss' },
      'an image instead': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}RUN --mount=type=bind,from=busybox,source=/etc/passwd,target=/m cat /m > /f\n`, expect: 'miss' },
    },
  }),
  'RUN --mount=type=secret': () => ({
    base: `${bb}RUN --mount=type=secret,id=s echo hi > /f\n`,
    args: ['--secret', `id=s,src=${join('SECRETS', 's1')}`],
    cases: {
      'another value (never in the key)': { file: `${bb}RUN --mount=type=secret,id=s echo hi > /f\n`, args: ['--secret', `id=s,src=${join('SECRETS', 's2')}`], expect: 'hit' },
      'required, and given': { file: `${bb}RUN --mount=type=secret,id=s,required echo hi > /f\n`, expect: 'hit' },
      'not given': { file: `${bb}RUN --mount=type=secret,id=s echo hi > /f\n`, args: [], expect: 'miss' },
      'another target': { file: `${bb}RUN --mount=type=secret,id=s,target=/run/secrets/t echo hi > /f\n`, expect: 'miss' },
      'another mode': { file: `${bb}RUN --mount=type=secret,id=s,mode=0444 echo hi > /f\n`, expect: 'miss' },
      'another uid': { file: `${bb}RUN --mount=type=secret,id=s,uid=1000 echo hi > /f\n`, expect: 'miss' },
    },
  }),
  COPY: () => ({
    base: `${bb}COPY a.txt /x/\n`,
    files: { 'a.txt': 'a\n', 'b.txt': 'b\n', 'd/a.txt': 'da\n' },
    cases: {
      './ before the source': { file: `${bb}COPY ./a.txt /x/\n`, expect: 'hit' },
      'a relative dest under WORKDIR /': { file: `${bb}WORKDIR /\nCOPY a.txt x/\n`, expect: 'hit' },
      'another context file changed': { file: `${bb}COPY a.txt /x/\n`, files: { 'b.txt': 'B\n' }, expect: 'hit' },
      'the source changed': { file: `${bb}COPY a.txt /x/\n`, files: { 'a.txt': 'A\n' }, expect: 'miss' },
      'another source': { file: `${bb}COPY b.txt /x/\n`, expect: 'miss' },
      'a second source': { file: `${bb}COPY a.txt b.txt /x/\n`, expect: 'miss' },
      'another dest': { file: `${bb}COPY a.txt /y/\n`, expect: 'miss' },
      '--chown=0:0 (the default)': { file: `${bb}COPY --chown=0:0 a.txt /x/\n`, expect: 'hit' },
      '--chown=root:root (the same owner)': { file: `${bb}COPY --chown=root:root a.txt /x/\n`, expect: 'hit' },
      '--chown=1000': { file: `${bb}COPY --chown=1000 a.txt /x/\n`, expect: 'miss' },
      '--chown=app (1000:1000 by name)': { file: `${bb}COPY --chown=app a.txt /x/\n`, expect: 'miss' },
      '--chmod=644': { file: `${bb}COPY --chmod=644 a.txt /x/\n`, expect: 'miss' },
      '--link': { file: `${bb}COPY --link a.txt /x/\n`, expect: 'miss' },
      '--link=false (the default)': { file: `${bb}COPY --link=false a.txt /x/\n`, expect: 'hit' },
      '--exclude that matches nothing': { file: `${bb}COPY --exclude=*.md a.txt /x/\n`, expect: 'hit' },
      'ADD of the same file': { file: `${bb}ADD a.txt /x/\n`, expect: 'miss' },
    },
  }),
  'COPY flags': () => ({
    base: `${bb}COPY --chown=1000:1000 --chmod=755 . /x/\n`,
    files: { 'a.txt': 'a\n', 'b.txt': 'b\n' },
    cases: {
      'flags in another order': { file: `${bb}COPY --chmod=755 --chown=1000:1000 . /x/\n`, expect: 'hit' },
      'the same mode spelled 0755': { file: `${bb}COPY --chown=1000:1000 --chmod=0755 . /x/\n`, expect: 'hit' },
      'the same owner by name': { file: `${bb}COPY --chown=app:app --chmod=755 . /x/\n`, expect: 'hit' },
      'the same owner as one number': { file: `${bb}COPY --chown=1000 --chmod=755 . /x/\n`, expect: 'hit' },
      'a symbolic mode': { file: `${bb}COPY --chown=1000:1000 --chmod=u+x . /x/\n`, expect: 'miss' },
      '--exclude of a selected file': { file: `${bb}COPY --chown=1000:1000 --chmod=755 --exclude=b.txt . /x/\n`, expect: 'miss' },
      'another gid': { file: `${bb}COPY --chown=1000:50 --chmod=755 . /x/\n`, expect: 'miss' },
    },
  }),
  'COPY --parents': () => ({
    base: `${bb}COPY --parents d/a.txt /x/\n`,
    files: { 'd/a.txt': 'da\n' },
    cases: {
      'without --parents': { file: `${bb}COPY d/a.txt /x/\n`, expect: 'miss' },
      '--parents=true': { file: `${bb}COPY --parents=true d/a.txt /x/\n`, expect: 'hit' },
    },
  }),
  'COPY --from': () => ({
    base: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=src /s /x/\n`,
    cases: {
      'the stage by index': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=0 /s /x/\n`, expect: 'hit' },
      'the stage changed': { file: `FROM busybox AS src\nRUN echo S > /s\n${bb}COPY --from=src /s /x/\n`, expect: 'miss' },
      'an image': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=busybox /etc/passwd /x/\n`, expect: 'miss' },
      '--exclude': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=src --exclude=*.md /s /x/\n`, expect: 'miss' },
      '--chown=0:0 (the default)': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=src --chown=0:0 /s /x/\n`, expect: 'hit' },
      '--chown=1000': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=src --chown=1000 /s /x/\n`, expect: 'miss' },
      '--chmod=600': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=src --chmod=600 /s /x/\n`, expect: 'miss' },
      '--link': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=src --link /s /x/\n`, expect: 'miss' },
      'another dest': { file: `FROM busybox AS src\nRUN echo s > /s\n${bb}COPY --from=src /s /y/\n`, expect: 'miss' },
    },
  }),
  'COPY heredoc': () => ({
    base: `${bb}COPY <<EOF /x/h\nhi\nEOF\n`,
    cases: {
      'a quoted delimiter': { file: `${bb}COPY <<"EOF" /x/h\nhi\nEOF\n`, expect: 'hit' },
      'another body': { file: `${bb}COPY <<EOF /x/h\nho\nEOF\n`, expect: 'miss' },
      'an expanded variable': { file: `${bb}ENV V=hi\nCOPY <<EOF /x/h\n$V\nEOF\n`, expect: 'hit' },
      '--chmod=755': { file: `${bb}COPY --chmod=755 <<EOF /x/h\nhi\nEOF\n`, expect: 'miss' },
      '--chown=1000': { file: `${bb}COPY --chown=1000 <<EOF /x/h\nhi\nEOF\n`, expect: 'miss' },
    },
  }),
  'ADD of an archive': () => ({
    base: `${bb}ADD app.tar /x/\n`,
    cases: {
      '--chown=0:0 (archive entries get it)': { file: `${bb}ADD --chown=0:0 app.tar /x/\n`, expect: 'miss' },
      '--chown=1000': { file: `${bb}ADD --chown=1000 app.tar /x/\n`, expect: 'miss' },
      '--unpack=true (the default)': { file: `${bb}ADD --unpack=true app.tar /x/\n`, expect: 'hit' },
      '--unpack=false': { file: `${bb}ADD --unpack=false app.tar /x/\n`, expect: 'miss' },
      '--keep-git-dir (no git source)': { file: `${bb}ADD --keep-git-dir app.tar /x/\n`, expect: 'hit' },
      '--link': { file: `${bb}ADD --link app.tar /x/\n`, expect: 'miss' },
      'COPY of the same archive': { file: `${bb}COPY app.tar /x/\n`, expect: 'miss' },
    },
  }),
  'ADD --chown': () => ({
    base: `${bb}ADD --chown=0:0 app.tar /x/\n`,
    cases: {
      'the same owner by name': { file: `${bb}ADD --chown=root app.tar /x/\n`, expect: 'hit' },
      'no --chown (archive owners kept)': { file: `${bb}ADD app.tar /x/\n`, expect: 'miss' },
    },
  }),
  'ADD of a URL': () => ({
    base: `${bb}ADD URL /x/\n`,
    cases: {
      '--checksum of the same content': { file: `${bb}ADD --checksum=CHECKSUM URL /x/\n`, expect: 'hit' },
      '--chown=0:0 (never unpacked)': { file: `${bb}ADD --chown=0:0 URL /x/\n`, expect: 'hit' },
      '--keep-git-dir (not a git source)': { file: `${bb}ADD --keep-git-dir URL /x/\n`, expect: 'hit' },
      '--chown=1000': { file: `${bb}ADD --chown=1000 URL /x/\n`, expect: 'miss' },
      '--chmod=644': { file: `${bb}ADD --chmod=644 URL /x/\n`, expect: 'miss' },
      'another dest': { file: `${bb}ADD URL /y/\n`, expect: 'miss' },
    },
  }),
  WORKDIR: () => ({
    base: `${bb}WORKDIR /w/d\n`,
    cases: {
      'a trailing slash': { file: `${bb}WORKDIR /w/d/\n`, expect: 'hit' },
      'a relative path from /': { file: `${bb}WORKDIR w/d\n`, expect: 'hit' },
      'the path from an ENV': { file: `${bb}ENV D=/w/d\nWORKDIR $D\n`, expect: 'hit' },
      'another path': { file: `${bb}WORKDIR /w/e\n`, expect: 'miss' },
      'USER (owner of what it creates)': { file: `${bb}USER 1000\nWORKDIR /w/d\n`, expect: 'miss' },
    },
  }),
};

/** resolve fills the placeholders the cases cannot know when they are declared (secret dir, server URL and its content's digest). */
function resolve(text: string): string {
  return text.replaceAll('SECRETS', secrets).replaceAll('URL', url).replaceAll('CHECKSUM', `sha256:${createHash('sha256').update(served).digest('hex')}`);
}

for (const [group, make] of Object.entries(GROUPS)) {
  describe(group, () => {
    let g: Group;
    let base: Built;
    let baseRecords: Set<string>;
    beforeAll(async () => {
      g = make();
      forgetRecordsBut(new Set());
      const ctx = context(g.files ?? {}, resolve(g.base), group.startsWith('ADD of an') || group === 'ADD --chown');
      base = await build(ctx, 'keys:base', (g.args ?? []).map(resolve));
      baseRecords = records();
    });
    for (const name of Object.keys(make().cases)) {
      test(name, async () => {
        forgetRecordsBut(baseRecords);
        const c = g.cases[name]!;
        const ctx = context({ ...g.files, ...c.files }, resolve(c.file), group.startsWith('ADD of an') || group === 'ADD --chown');
        const args = (c.args ?? g.args ?? []).map(resolve);
        const warm = await build(ctx, 'keys:warm', args);
        expect(warm.cached ? 'hit' : 'miss', 'key').toBe(c.expect);
        if (c.expect === 'miss') return;
        expect(warm.layer).toBe(base.layer);
        const cold = await build(ctx, 'keys:cold', ['--no-cache', ...args]);
        expect(cold.layer, 'a cold build of the variant gives the layer the hit reused').toBe(base.layer);
      });
    }
  });
}

describe('ADD of a URL whose content changes', () => {
  test('misses (the key holds the downloaded content)', async () => {
    const ctx = context({}, resolve(`${bb}ADD URL /x/\n`), false);
    served = 'served one\n';
    await build(ctx, 'keys:url1', []);
    served = 'served two\n';
    try {
      expect((await build(ctx, 'keys:url2', [])).cached).toBe(false);
    } finally {
      served = 'served one\n';
    }
  });
});

describe('ADD --checksum', () => {
  test('is refused where it cannot check a download, as BuildKit (never silently ignored)', async () => {
    const cases: Array<[string, string]> = [
      [`${bb}ADD --checksum=sha256:${'0'.repeat(64)} a.txt /x/\n`, 'ADD --checksum can\'t be specified for non-HTTP(S) sources'],
      [`${bb}ADD --checksum=sha256:${'0'.repeat(64)} URL a.txt /x/\n`, 'ADD --checksum can\'t be specified for multiple sources'],
    ];
    for (const [file, why] of cases) {
      const ctx = context({ 'a.txt': 'a\n' }, resolve(file), false);
      const r = await tsbuild(['--root', suite.t.root, 'build', '--progress=quiet', ctx]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`Buildfile:2:1: ${why}`);
    }
  });

  test('is expanded with the stage\'s variables', async () => {
    const sum = createHash('sha256').update(served).digest('hex');
    const ctx = context({}, resolve(`${bb}ARG SUM=${sum}\nADD --checksum=sha256:$SUM URL /x/\n`), false);
    const r = await tsbuild(['--root', suite.t.root, 'build', '--progress=quiet', ctx]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
