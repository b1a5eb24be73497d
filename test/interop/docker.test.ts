import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempRoot, ok, type TempRoot } from '../helpers/cli.ts';
import { blob, imageOf, importBusybox, unpack, writeTree } from '../helpers/image.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { makeBusyboxTar } from '../helpers/rootfs.ts';
import { FF, FFFD, byteEntries, filesByName, latin1 } from '../helpers/tarNames.ts';
import { DockerLeftovers, docker, requireDocker, skopeo } from './dockerd.ts';

// Images leave the machine: tsbuild's archives and pushes work in Docker (load,
// run, same image id), skopeo carries them between our registry, dockerd and OCI
// layouts and back, and what Docker builds and saves loads into tsbuild and
// serves as a base for a tsbuild build.

const ID = randomBytes(4).toString('hex');
const name = (what: string) => `tsbuild-interop-${what}-${ID}`;

let t: TempRoot;
let reg: RunningRegistry;
const leftovers = new DockerLeftovers();

beforeAll(async () => {
  t = makeTempRoot('tsbuild-interop-');
  reg = await startRegistry();
  await importBusybox(t.root, t.dir, 'busybox:latest');
});
afterAll(async () => {
  leftovers.cleanup();
  await reg?.stop();
  t?.cleanup();
});

/** The app image: ENV, RUN, COPY, CMD, a symlink, and a file of a lower layer deleted by a later one. */
const APP_BUILDFILE = [
  'FROM busybox:latest',
  'ENV GREETING=hello-from-tsbuild',
  'RUN mkdir -p /data && echo lower > /data/gone && echo kept > /data/kept',
  'COPY app.txt /app/app.txt',
  'RUN rm /data/gone && ln -s /app/app.txt /app/link && echo "$GREETING" > /app/greeting',
  'CMD ["/bin/sh", "-c", "echo $GREETING; cat /app/link; cat /data/kept; ls /data; test -e /data/gone || echo gone-ok; readlink /app/link"]',
  '',
].join('\n');
const APP_OUTPUT = 'hello-from-tsbuild\napp v1\nkept\nkept\ngone-ok\n/app/app.txt\n';

/** buildApp builds the app image into the store as tag and returns its image id (config digest). */
async function buildApp(tag: string): Promise<string> {
  const ctx = mkdtempSync(join(t.dir, 'ctx-'));
  writeTree(ctx, { Buildfile: APP_BUILDFILE, 'app.txt': 'app v1\n' });
  await ok(['--root', t.root, 'build', '--progress=quiet', '-t', tag, ctx]);
  return imageOf(t.root, tag).manifest.config.digest as string;
}

function dockerRun(image: string, ...cmd: string[]): string {
  const c = `${name('run')}-${randomBytes(3).toString('hex')}`;
  leftovers.containers.add(c);
  return docker(['run', '--rm', '--name', c, '--network=host', image, ...cmd]);
}

function dockerId(image: string): string {
  return docker(['image', 'inspect', '--format', '{{.Id}}', image]).trim();
}

describe('tsbuild images in Docker', () => {
  test('save (docker format) → docker load → docker run: output, files, whiteout, same image id', async () => {
    requireDocker(); // no daemon is a failure of this suite, never a skip
    const tag = `${name('a')}:1`;
    const id = await buildApp(tag);
    const archive = join(t.dir, 'a.tar');
    await ok(['--root', t.root, 'save', '-o', archive, tag]);

    leftovers.images.add(tag);
    expect(docker(['load', '-i', archive])).toContain(`Loaded image: ${tag}`);
    expect(dockerId(tag)).toBe(id);
    expect(dockerRun(tag)).toBe(APP_OUTPUT);
    expect(dockerRun(tag, 'sh', '-c', 'ls -la /app | grep -c "link -> /app/app.txt"; cat /app/greeting')).toBe('1\nhello-from-tsbuild\n');
    const env = JSON.parse(docker(['image', 'inspect', '--format', '{{json .Config.Env}}', tag])) as string[];
    expect(env).toContain('GREETING=hello-from-tsbuild');
  });

  test('save --format oci → skopeo copy oci-archive: → docker-daemon: → docker run', async () => {
    requireDocker(); // no daemon is a failure of this suite, never a skip
    const tag = `${name('oci')}:1`;
    const id = await buildApp(tag);
    const archive = join(t.dir, 'a.oci.tar');
    await ok(['--root', t.root, 'save', '--format', 'oci', '-o', archive, tag]);
    leftovers.images.add(tag);
    skopeo(['copy', `oci-archive:${archive}:${tag}`, `docker-daemon:${tag}`]);
    expect(dockerId(tag)).toBe(id);
    expect(dockerRun(tag)).toBe(APP_OUTPUT);
  });

  test('push to a registry → skopeo to docker-daemon: (runs, same id) → skopeo to oci: → tsbuild load and pull → build FROM it', async () => {
    requireDocker(); // no daemon is a failure of this suite, never a skip
    const tag = `${name('b')}:1`;
    const id = await buildApp(tag);
    const remote = `${reg.host}/interop/b:1`;
    await ok(['--root', t.root, 'tag', tag, remote]);
    await ok(['--root', t.root, 'push', remote]);

    const inDocker = `${name('b-docker')}:1`;
    leftovers.images.add(inDocker);
    skopeo(['copy', '--src-tls-verify=false', `docker://${remote}`, `docker-daemon:${inDocker}`]);
    expect(dockerId(inDocker)).toBe(id);
    expect(dockerRun(inDocker)).toBe(APP_OUTPUT);

    // And back out of Docker, into an OCI layout, then into tsbuild (as an archive, and through the registry).
    const back = `${name('back')}:1`;
    const layout = join(t.dir, 'back-layout');
    skopeo(['copy', `docker-daemon:${inDocker}`, `oci:${layout}:${back}`]);
    const archive = join(t.dir, 'back.tar');
    execFileSync('tar', ['-C', layout, '-cf', archive, '.']);
    const root2 = join(t.dir, 'root-back');
    expect((await ok(['--root', root2, 'load', '-i', archive])).stdout).toBe(`Loaded image: ${back}\n`);
    const loaded = imageOf(root2, back);
    // skopeo re-encodes the config when it turns Docker's image into an OCI one (other
    // key order, `"OnBuild": null` dropped, Go's time format), so the id changes; the
    // layers and what the config says do not.
    const ours = imageOf(t.root, tag).config;
    expect(loaded.config.rootfs).toEqual(ours.rootfs);
    expect(loaded.config.config.Env).toEqual(ours.config.Env);
    expect(loaded.config.config.Cmd).toEqual(ours.config.Cmd);
    // Go writes times with trailing zeros of the fraction cut (…:15.05Z for …:15.050Z).
    const instants = (h: { created?: string }[]) => h.map((e) => ({ ...e, created: e.created && new Date(e.created).toISOString() }));
    expect(instants(loaded.config.history)).toEqual(instants(ours.history));

    const pulledRef = `${reg.host}/interop/back:1`;
    skopeo(['copy', '--dest-tls-verify=false', `oci:${layout}:${back}`, `docker://${pulledRef}`]);
    const root3 = join(t.dir, 'root-pulled');
    await ok(['--root', root3, 'pull', pulledRef]);
    expect(imageOf(root3, pulledRef).manifest.config.digest).toBe(loaded.manifest.config.digest);

    for (const [root, base] of [[root2, back], [root3, pulledRef]] as const) {
      const ctx = mkdtempSync(join(t.dir, 'ctx-from-'));
      writeTree(ctx, {
        Buildfile: `FROM ${base}\nRUN test ! -e /data/gone && cat /app/greeting /app/link > /roundtrip\nCMD ["cat", "/roundtrip"]\n`,
      });
      await ok(['--root', root, 'build', '--progress=quiet', '-t', 'from-docker:1', ctx]);
      const fs = unpack(root, 'from-docker:1', mkdtempSync(join(t.dir, 'unpack-')));
      expect(readFileSync(join(fs, 'roundtrip'), 'utf8')).toBe('hello-from-tsbuild\napp v1\n');
      expect(readlinkSync(join(fs, 'app/link'))).toBe('/app/app.txt');
      expect(existsSync(join(fs, 'data/gone'))).toBe(false);
    }
  });
});

describe('Docker images in tsbuild', () => {
  test('docker import + DOCKER_BUILDKIT=1 docker build → docker save → tsbuild load (same id) → tsbuild build FROM it → back into docker', async () => {
    requireDocker(); // no daemon is a failure of this suite, never a skip
    const base = `${name('c-base')}:1`;
    const built = `${name('c')}:1`;
    const bbDir = mkdtempSync(join(t.dir, 'bb-'));
    const bbTar = join(t.dir, 'c-busybox.tar');
    makeBusyboxTar(bbDir, bbTar);
    leftovers.images.add(base);
    docker(['import', bbTar, base]);

    const dctx = join(t.dir, 'docker-ctx');
    mkdirSync(dctx);
    writeTree(dctx, {
      Dockerfile: [
        `FROM ${base}`,
        'RUN mkdir /d && echo from-docker > /d/f && echo x > /d/gone',
        'COPY note.txt /d/note.txt',
        'RUN rm /d/gone && ln -s f /d/link',
        'ENV FOO=bar',
        'CMD ["cat", "/d/f"]',
        '',
      ].join('\n'),
      'note.txt': 'note\n',
    });
    leftovers.images.add(built);
    docker(['build', '--network=host', '-q', '-t', built, dctx], { env: { DOCKER_BUILDKIT: '1' } });
    const archive = join(t.dir, 'c.tar');
    docker(['save', '-o', archive, built]);

    expect((await ok(['--root', t.root, 'load', '-i', archive])).stdout).toBe(`Loaded image: ${built}\n`);
    const loaded = imageOf(t.root, built);
    expect(loaded.manifest.config.digest).toBe(dockerId(built));
    expect(loaded.config.config.Env).toContain('FOO=bar');

    const ctx = mkdtempSync(join(t.dir, 'ctx-c-'));
    writeTree(ctx, {
      Buildfile: [
        `FROM ${built}`,
        'RUN test ! -e /d/gone && cat /d/link /d/note.txt > /out && echo "$FOO" >> /out',
        'COPY extra.txt /d/extra.txt',
        'CMD ["cat", "/out", "/d/extra.txt"]',
        '',
      ].join('\n'),
      'extra.txt': 'extra\n',
    });
    const derived = `${name('c-derived')}:1`;
    await ok(['--root', t.root, 'build', '--progress=quiet', '-t', derived, ctx]);
    const fs = unpack(t.root, derived, mkdtempSync(join(t.dir, 'unpack-c-')));
    expect(readFileSync(join(fs, 'out'), 'utf8')).toBe('from-docker\nnote\nbar\n');
    expect(lstatSync(join(fs, 'd/link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(fs, 'd/link'))).toBe('f');
    expect(existsSync(join(fs, 'd/gone'))).toBe(false);
    const derivedImg = imageOf(t.root, derived);
    expect(derivedImg.config.rootfs.diff_ids.slice(0, loaded.config.rootfs.diff_ids.length)).toEqual(loaded.config.rootfs.diff_ids);

    // The derived image goes back into Docker and runs there: Docker's layers, then ours.
    const out = join(t.dir, 'c-derived.tar');
    await ok(['--root', t.root, 'save', '-o', out, derived]);
    leftovers.images.add(derived);
    docker(['load', '-i', out]);
    expect(dockerId(derived)).toBe(derivedImg.manifest.config.digest);
    expect(dockerRun(derived)).toBe('from-docker\nnote\nbar\nextra\n');
  });
});

describe('names are bytes, between tsbuild and Docker', () => {
  // `\xff` (not UTF-8) and U+FFFD side by side, each with its own content.
  const SH_NAMES = `"$(printf '\\377')" "$(printf '\\357\\277\\275')"`;
  const MAKE = `RUN mkdir /r && cd /r && set -- ${SH_NAMES} && printf A > "$1" && printf B > "$2"`;

  test('tsbuild layers with such names → save → docker load (same id) → docker run reads both', async () => {
    requireDocker(); // no daemon is a failure of this suite, never a skip
    const ctx = mkdtempSync(join(t.dir, 'ctx-bytes-'));
    writeTree(ctx, { Buildfile: `FROM busybox:latest\n${MAKE}\nCOPY c /c/\n` });
    mkdirSync(join(ctx, 'c'));
    writeFileSync(Buffer.concat([Buffer.from(`${ctx}/c/`), FF]), 'a');
    writeFileSync(Buffer.concat([Buffer.from(`${ctx}/c/`), FFFD]), 'b');
    const tag = `${name('bytes')}:1`;
    await ok(['--root', t.root, 'build', '--progress=quiet', '-t', tag, ctx]);
    const archive = join(t.dir, 'bytes.tar');
    await ok(['--root', t.root, 'save', '-o', archive, tag]);
    leftovers.images.add(tag);
    docker(['load', '-i', archive]);
    expect(dockerId(tag)).toBe(imageOf(t.root, tag).manifest.config.digest);
    expect(dockerRun(tag, 'sh', '-c', `set -- ${SH_NAMES}; cat "/r/$1" "/r/$2" "/c/$1" "/c/$2"; ls /r | wc -l`)).toBe('ABab2\n');
  });

  test('DOCKER_BUILDKIT=1 docker build of such names → docker save → tsbuild load: both in the layer, byte-exact; a RUN reads both', async () => {
    requireDocker(); // no daemon is a failure of this suite, never a skip
    const base = `${name('bytes-base')}:1`;
    const built = `${name('bytes-docker')}:1`;
    const bbTar = join(t.dir, 'bytes-busybox.tar');
    makeBusyboxTar(mkdtempSync(join(t.dir, 'bb-')), bbTar);
    leftovers.images.add(base);
    docker(['import', bbTar, base]);
    const dctx = mkdtempSync(join(t.dir, 'docker-ctx-bytes-'));
    writeTree(dctx, { Dockerfile: `FROM ${base}\n${MAKE}\n` });
    leftovers.images.add(built);
    docker(['build', '--network=host', '-q', '-t', built, dctx], { env: { DOCKER_BUILDKIT: '1' } });
    const archive = join(t.dir, 'bytes-docker.tar');
    docker(['save', '-o', archive, built]);
    await ok(['--root', t.root, 'load', '-i', archive]);
    const loaded = imageOf(t.root, built);
    const layer = byteEntries(blob(t.root, loaded.manifest.layers.at(-1).digest));
    expect(filesByName(layer)).toMatchObject({ [latin1('r/', FF)]: 'A', [latin1('r/', FFFD)]: 'B' });

    const ctx = mkdtempSync(join(t.dir, 'ctx-bytes-read-'));
    writeTree(ctx, { Buildfile: `FROM ${built}\nRUN set -- ${SH_NAMES} && cat "/r/$1" "/r/$2" > /check\n` });
    const derived = `${name('bytes-derived')}:1`;
    await ok(['--root', t.root, 'build', '--progress=quiet', '-t', derived, ctx]);
    expect(readFileSync(join(unpack(t.root, derived, mkdtempSync(join(t.dir, 'unpack-bytes-'))), 'check'), 'utf8')).toBe('AB');
  });
});
