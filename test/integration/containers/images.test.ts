import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasBusybox, isRoot } from '../../helpers/rootfs.ts';
import { imageOf } from '../../helpers/image.ts';
import { makeHarness, type Harness } from './harness.ts';

describe.runIf(isRoot && hasBusybox())('images, tag, rmi, inspect, history', () => {
  let h: Harness;
  let bbId: string;
  beforeAll(async () => {
    h = await makeHarness('tsbuild-img-');
    bbId = imageOf(h.t.root, 'busybox').manifest.config.digest;
  });
  afterAll(async () => { await h?.cleanup(); });

  test('images lists one row per name with Docker\'s columns; tag adds a name', async () => {
    await h.ok('tag', 'busybox', 'localhost:5000/team/bb:v1');
    await h.ok('image', 'tag', bbId.slice(7, 19), 'bb2');
    const out = (await h.ok('images')).stdout.split('\n');
    expect(out[0]).toMatch(/^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    const short = bbId.slice(7, 19);
    expect(out.slice(1, -1).sort()).toEqual([
      expect.stringMatching(new RegExp(`^bb2 +latest +${short} +.* ago +1\\.98MB$`)),
      expect.stringMatching(new RegExp(`^busybox +latest +${short} +`)),
      expect.stringMatching(new RegExp(`^localhost:5000/team/bb +v1 +${short} +`)),
    ]);
    expect((await h.ok('images', '-q')).stdout).toBe(`${short}\n`);
    expect((await h.ok('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', 'bb2')).stdout).toBe('bb2:latest\n');
    expect((await h.ok('images', '--no-trunc', '--format', '{{.ID}}', 'busybox')).stdout).toBe(`${bbId}\n`);
  });

  test('rmi by name untags while other names remain; by id it needs -f for several names', async () => {
    expect((await h.ok('rmi', 'bb2')).stdout).toBe('Untagged: bb2:latest\n');
    const byId = await h.cli('rmi', bbId.slice(7, 19));
    expect(byId.code).toBe(1);
    expect(byId.stderr).toBe(`error: conflict: unable to delete ${bbId.slice(7, 19)} (must be forced) - image is referenced in multiple repositories\n`);
    expect((await h.ok('rmi', 'localhost:5000/team/bb:v1')).stdout).toBe('Untagged: localhost:5000/team/bb:v1\n');
  });

  test('an image used by a container cannot lose its last name, nor go by id, without -f', async () => {
    await h.ok('run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo v > /version');
    const victim = (await h.ok('commit', 'maker', 'victim')).stdout.trim();
    await h.ok('rm', 'maker');
    await h.ok('tag', 'victim', 'victim:alias');
    await h.ok('run', '--name', 'user', 'victim', 'true');
    // Another name remains: untagging one is fine.
    expect((await h.ok('rmi', 'victim:alias')).stdout).toBe('Untagged: victim:alias\n');
    const last = await h.cli('rmi', 'victim');
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/^error: conflict: unable to remove repository reference "victim" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}\n$/);
    const byId = await h.cli('rmi', victim);
    expect(byId.stderr).toMatch(/^error: conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is being used by stopped container [0-9a-f]{12}\n$/);
    expect((await h.ok('rmi', '-f', 'victim')).stdout).toBe('Untagged: victim:latest\n');
    // ps shows the image by id once its name is gone, as Docker does; the container still runs.
    expect((await h.ok('ps', '-a', '--format', '{{.Image}} {{.Names}}')).stdout).toBe(`${victim.slice(7, 19)} user\n`);
    expect((await h.cli('container', 'start', '-a', 'user')).code).toBe(0);
    // The image stays as <none>:<none>, usable by id, as Docker keeps it.
    expect((await h.ok('images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}')).stdout).toContain(`<none> <none> ${victim.slice(7, 19)}\n`);
    expect((await h.ok('run', '--rm', victim.slice(7, 15), 'cat', '/version')).stdout).toBe('v\n');
    // By id it still needs -f while the stopped container exists; with -f it goes, as in Docker,
    // and the container keeps running from the layers its record lists.
    expect((await h.cli('rmi', victim.slice(7, 19))).stderr).toMatch(/\(must be forced\) - image is being used by stopped container/);
    expect((await h.ok('rmi', '-f', victim.slice(7, 19))).stdout).toBe(`Deleted: ${victim}\n`);
    expect((await h.ok('images', '-q')).stdout).not.toContain(victim.slice(7, 19));
    expect((await h.cli('container', 'start', '-a', 'user')).code).toBe(0);
    await h.ok('rm', 'user');
    // Other images are untouched.
    expect((await h.ok('run', '--rm', 'busybox', 'echo', 'fine')).stdout).toBe('fine\n');
  });

  test('commit without a name gives an untagged image: listed as <none>, usable by id in run, history, inspect, tag, rmi', async () => {
    await h.ok('run', '--name', 'anon', 'busybox', 'sh', '-c', 'echo anon > /who');
    const id = (await h.ok('commit', '-m', 'no name', 'anon')).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    await h.ok('rm', 'anon');
    const short = id.slice(7, 19);
    const rows = (await h.ok('images')).stdout.split('\n');
    expect(rows).toContainEqual(expect.stringMatching(new RegExp(`^<none> +<none> +${short} +.* ago +1\\.98MB$`)));
    expect((await h.ok('images', '-q')).stdout.split('\n')).toContain(short);
    expect((await h.ok('run', '--rm', id.slice(7, 13), 'cat', '/who')).stdout).toBe('anon\n');
    expect((await h.ok('run', '--rm', id, 'cat', '/who')).stdout).toBe('anon\n');
    expect((await h.ok('history', '--format', '{{.ID}}|{{.Comment}}', short)).stdout.split('\n')[0]).toBe(`${short}|no name`);
    expect(JSON.parse((await h.ok('image', 'inspect', short)).stdout)[0]).toMatchObject({ Id: id, RepoTags: [], Comment: 'no name' });
    // A name makes it an ordinary tagged image: no <none> row any more.
    await h.ok('tag', short, 'named-now');
    const named = (await h.ok('images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}')).stdout;
    expect(named).toContain(`named-now latest ${short}\n`);
    expect(named).not.toContain(`<none> <none> ${short}`);
    expect((await h.ok('rmi', 'named-now')).stdout).toBe(`Untagged: named-now:latest\nDeleted: ${id}\n`);
    const gone = await h.cli('run', '--rm', short, 'true');
    expect(gone.stderr.split('\n')[0]).toBe(`error: No such image: ${short}`);
    // An untagged image goes by id.
    await h.ok('run', '--name', 'anon2', 'busybox', 'true');
    const id2 = (await h.ok('commit', 'anon2')).stdout.trim();
    await h.ok('rm', 'anon2');
    expect((await h.ok('rmi', id2.slice(7, 19))).stdout).toBe(`Deleted: ${id2}\n`);
    expect((await h.ok('images', '-q')).stdout).toBe(`${bbId.slice(7, 19)}\n`);
  });

  test('commit -a sets the config\'s author and the history entry\'s author, as docker commit does', async () => {
    await h.ok('run', '--name', 'writer', 'busybox', 'true');
    await h.ok('commit', '-a', 'Jane Doe <jane@example.com>', '-m', 'signed', 'writer', 'authored');
    const { config } = imageOf(h.t.root, 'authored');
    expect(config.author).toBe('Jane Doe <jane@example.com>');
    expect(config.history.at(-1)).toMatchObject({ author: 'Jane Doe <jane@example.com>', comment: 'signed' });
    expect(JSON.parse((await h.ok('image', 'inspect', 'authored')).stdout)[0].Author).toBe('Jane Doe <jane@example.com>');
    // A commit without -a names no author, even on an authored base; the base's entry keeps its own.
    await h.ok('run', '--name', 'writer2', 'authored', 'true');
    await h.ok('commit', 'writer2', 'unsigned');
    const next = imageOf(h.t.root, 'unsigned').config;
    expect(next.author).toBeUndefined();
    expect(next.history.at(-1).author).toBeUndefined();
    expect(next.history.at(-2).author).toBe('Jane Doe <jane@example.com>');
    await h.ok('rm', 'writer', 'writer2');
    await h.ok('rmi', 'authored', 'unsigned');
  });

  test('rmi refuses an image a running container uses, even with -f', async () => {
    await h.ok('tag', 'busybox', 'runner');
    const id = (await h.ok('run', '-d', '--name', 'busy', 'runner', 'sleep', '100')).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const r = await h.cli('rmi', '-f', bbId);
    expect(r.stderr).toMatch(/^error: conflict: unable to delete [0-9a-f]{12} \(cannot be forced\) - image is being used by running container [0-9a-f]{12}\n$/);
    await h.ok('rm', '-f', 'busy');
    await h.ok('rmi', 'runner');
  });

  test('inspect prints Docker-shaped JSON for images and containers, -f formats each', async () => {
    const img = JSON.parse((await h.ok('image', 'inspect', 'busybox')).stdout);
    expect(img).toHaveLength(1);
    expect(img[0]).toMatchObject({ Id: bbId, RepoTags: ['busybox:latest'], Os: 'linux', Architecture: 'amd64', RootFS: { Type: 'layers' } });
    expect(img[0].Size).toBeGreaterThan(1_000_000);
    expect((await h.cli('run', '--name', 'insp', '-e', 'X=1', 'busybox', 'sh', '-c', 'exit 3')).code).toBe(3);
    const c = JSON.parse((await h.ok('inspect', 'insp')).stdout)[0];
    expect(c).toMatchObject({ Name: '/insp', Path: 'sh', Args: ['-c', 'exit 3'], Image: bbId, State: { Status: 'exited', Running: false, ExitCode: 3 } });
    expect(c.Config.Env).toEqual(['X=1']);
    expect((await h.ok('inspect', '-f', '{{.Name}} {{.State.ExitCode}}', 'insp', 'busybox')).stdout).toBe('/insp 3\n<no value> <no value>\n');
    const miss = await h.cli('inspect', 'insp', 'nothing-here');
    expect(miss.code).toBe(1);
    expect(miss.stderr).toBe('error: No such object: nothing-here\n');
    expect(JSON.parse(miss.stdout)).toHaveLength(1);
    await h.ok('rm', 'insp');
  });

  test('history --no-trunc and --format', async () => {
    const hist = await h.ok('history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'busybox');
    expect(hist.stdout).toMatch(new RegExp(`^${bbId}\\|tsbuild import \\S+busybox.tar\\|1.98MB\\|\n$`));
    const q = await h.ok('image', 'history', '-q', 'busybox');
    expect(q.stdout).toBe(`${bbId.slice(7, 19)}\n`);
  });
});

describe.runIf(isRoot && hasBusybox())('one-line errors', () => {
  let h: Harness;
  beforeAll(async () => { h = await makeHarness('tsbuild-err-'); });
  afterAll(async () => { await h?.cleanup(); });

  test.each([
    [['run', 'nosuch', 'true'], 'error: No such image: nosuch'],
    [['history', 'nosuch'], 'error: No such image: nosuch'],
    [['rmi', 'nosuch'], 'error: No such image: nosuch'],
    [['tag', 'nosuch', 'x'], 'error: No such image: nosuch'],
    [['rm', 'nosuch'], 'error: No such container: nosuch'],
    [['commit', 'nosuch'], 'error: No such container: nosuch'],
    [['container', 'inspect', 'nosuch'], 'error: No such container: nosuch'],
    [['run', 'busybox'], 'error: No command specified'],
    [['run', '-w', 'rel', 'busybox', 'true'], "error: the working directory 'rel' is invalid, it needs to be an absolute path"],
    [['run', '--network', 'bridge', 'busybox', 'true'], 'error: run: --network must be host or none, not "bridge"'],
    [['tag', 'busybox', 'Bad:Name'], 'error: invalid reference "Bad:Name": repository name must be lowercase'],
    [['container', 'frobnicate'], 'error: unknown command "container frobnicate"'],
  ])('%j', async (args, want) => {
    const r = await h.cli(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr.split('\n')[0]).toBe(want);
  });

  test('a name in use, as Docker says it', async () => {
    await h.ok('run', '--name', 'taken', 'busybox', 'true');
    const id = (await h.ok('ps', '-aq', '--no-trunc')).stdout.trim();
    const r = await h.cli('run', '--name', 'taken', 'busybox', 'true');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: Conflict. The container name "/taken" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.\n`);
    await h.ok('rm', 'taken');
  });

  test('a command that does not exist exits 127; a bad --change names the problem and writes nothing', async () => {
    const r = await h.cli('run', '--rm', 'busybox', 'no-such-program');
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/no-such-program.*executable file not found/);
    await h.ok('run', '--name', 'src', 'busybox', 'true');
    const bad = await h.cli('commit', '-c', 'RUN echo hi', 'src', 'x');
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe('error: RUN is not a valid change command');
    expect((await h.ok('images', '-q', 'x')).stdout).toBe('');
    await h.ok('rm', 'src');
  });
});
