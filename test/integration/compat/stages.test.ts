import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { jsonEvents, writeTree } from '../../helpers/image.ts';
import { flatten, listing } from '../../helpers/fslisting.ts';
import { hasBusybox, isRoot, makeBusyboxTar } from '../../helpers/rootfs.ts';
import { readImageFiles, writeImportedImage } from './ociImage.ts';

/**
 * Multi-stage scheduling and secrets, the parts of issue #4 a filesystem listing cannot show:
 * independent stages run at the same time (bounded by --jobs), each stage is cached on its own,
 * and a secret's value reaches no blob, cache record or snapshot.
 */

let t: TempRoot;

beforeAll(() => {
  t = makeTempRoot('tsbuild-stages-');
  const tar = join(t.dir, 'busybox.tar');
  makeBusyboxTar(mkdtempSync(join(t.dir, 'bb-')), tar);
  writeImportedImage(t.root, tar, 'busybox:latest');
});
afterAll(() => t?.cleanup());

function ctxDir(files: Record<string, string>): string {
  const d = mkdtempSync(join(t.dir, 'ctx-'));
  writeTree(d, files);
  return d;
}

async function build(ctx: string, args: string[] = [], env: Record<string, string> = {}) {
  const t0 = Date.now();
  const r = await ok(['--root', t.root, 'build', '--progress=json', ...args, ctx], { env });
  const events = jsonEvents(r.stderr);
  return {
    ms: Date.now() - t0,
    events,
    cached: events.filter((e) => e.type === 'step.cached').map((e) => e.step.text as string),
    ran: events.filter((e) => e.type === 'step.start' && !String(e.step.text).startsWith('FROM')).map((e) => e.step.text as string),
  };
}

/** runWindows gives each RUN step's [start, done] times from the progress events. */
function runWindows(events: any[]): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const e of events) {
    if (!String(e.step?.text).startsWith('RUN')) continue;
    const w = out.get(e.step.text) ?? [0, 0];
    if (e.type === 'step.start') w[0] = e.at;
    if (e.type === 'step.done') w[1] = e.at;
    out.set(e.step.text, w);
  }
  return out;
}

const SLEEPERS = (nonce: string) => [
  'FROM busybox AS a',
  `RUN sleep 2 && echo a-${nonce} > /a`,
  'FROM busybox AS b',
  `RUN sleep 2 && echo b-${nonce} > /b`,
  'FROM busybox',
  'COPY --from=a /a /',
  'COPY --from=b /b /',
  '',
].join('\n');

describe.runIf(isRoot && hasBusybox())('stages', () => {
  test('two independent stages that each RUN sleep 2 finish in about 2 s, not 4 (--jobs defaults to the CPUs)', async () => {
    // Warm up: extract the base layer and pick the runtime, so the timing is the stages'.
    await build(ctxDir({ Buildfile: `FROM busybox\nRUN echo ${randomBytes(4).toString('hex')} > /warm\n` }));
    const ctx = ctxDir({ Buildfile: SLEEPERS(randomBytes(6).toString('hex')) });
    // No --jobs: the default is the number of CPUs, two or more on every machine this runs on.
    expect(availableParallelism()).toBeGreaterThanOrEqual(2);
    const r = await build(ctx, ['-t', 'parallel:1']);
    const [a, b] = [...runWindows(r.events).values()];
    expect(a![0]).toBeLessThan(b![1]);
    expect(b![0]).toBeLessThan(a![1]);
    // From the first RUN's start to the last RUN's end: one after the other would take over 4 s.
    const span = Math.max(a![1], b![1]) - Math.min(a![0], b![0]);
    expect(span).toBeLessThan(3500);
    const fs = listing(await flatten(readImageFiles(t.root, 'parallel:1').layers));
    expect(fs).toMatch(/^\/a file 0644 0:0 /m);
    expect(fs).toMatch(/^\/b file 0644 0:0 /m);
  });

  test('--jobs 1 runs them one after the other', async () => {
    const ctx = ctxDir({ Buildfile: SLEEPERS(randomBytes(6).toString('hex')) });
    const r = await build(ctx, ['--jobs', '1']);
    const [a, b] = [...runWindows(r.events).values()].sort((x, y) => x[0] - y[0]);
    expect(b![0]).toBeGreaterThanOrEqual(a![1]);
    expect(b![1] - a![0]).toBeGreaterThanOrEqual(4000);
  });

  test('each stage is cached on its own: a change in one stage leaves an unrelated stage cached', async () => {
    const ctx = ctxDir({
      Buildfile: [
        'FROM busybox AS a', 'COPY a.txt /a.txt', 'RUN cat /a.txt > /a.out',
        'FROM busybox AS b', 'COPY b.txt /b.txt', 'RUN cat /b.txt > /b.out',
        'FROM busybox', 'COPY --from=a /a.out /', 'COPY --from=b /b.out /', '',
      ].join('\n'),
      'a.txt': `a-${randomBytes(4).toString('hex')}`,
      'b.txt': 'b1',
    });
    const first = await build(ctx);
    expect(first.cached).toEqual([]);
    const second = await build(ctx);
    expect(second.ran).toEqual([]);
    writeFileSync(join(ctx, 'b.txt'), 'b2');
    const third = await build(ctx, ['-t', 'stagecache:3']);
    expect(third.cached.sort()).toEqual(['COPY --from=a /a.out /', 'COPY a.txt /a.txt', 'RUN cat /a.txt > /a.out']);
    expect(third.ran.sort()).toEqual(['COPY --from=b /b.out /', 'COPY b.txt /b.txt', 'RUN cat /b.txt > /b.out']);
  });

  test('a bind-mounted source is part of the RUN key; a cache mount is not', async () => {
    const cacheId = `keys-${randomBytes(4).toString('hex')}`;
    const ctx = ctxDir({
      Buildfile: [
        'FROM busybox',
        'RUN --mount=type=bind,source=input.txt,target=/in.txt cat /in.txt > /out.txt',
        `RUN --mount=type=cache,id=${cacheId},target=/c date +%s%N > /c/stamp && echo done > /done.txt`,
        '',
      ].join('\n'),
      'input.txt': 'one',
    });
    await build(ctx);
    expect((await build(ctx)).ran).toEqual([]);
    writeFileSync(join(ctx, 'input.txt'), 'two');
    const r = await build(ctx, ['-t', 'bindkey:1']);
    expect(r.ran).toEqual(['RUN --mount=type=bind,source=input.txt,target=/in.txt cat /in.txt > /out.txt', `RUN --mount=type=cache,id=${cacheId},target=/c date +%s%N > /c/stamp && echo done > /done.txt`]);
    const fs = listing(await flatten(readImageFiles(t.root, 'bindkey:1').layers));
    expect(fs).toMatch(/^\/out\.txt file 0644 0:0 3 /m);
    expect(fs).not.toMatch(/^\/c\/stamp/m);
  });

  test('--target builds only the stages the target needs', async () => {
    const ctx = ctxDir({ Buildfile: 'FROM busybox AS ok\nRUN echo ok > /ok\nFROM busybox AS broken\nRUN exit 9\nFROM ok AS final\nRUN exit 8\n' });
    const r = await build(ctx, ['--target', 'ok']);
    expect(r.ran).toEqual(['RUN echo ok > /ok']);
  });

  test('RUN --network=host sees the host\'s interfaces, --network=none only lo', async () => {
    const nonce = randomBytes(4).toString('hex');
    const ctx = ctxDir({ Buildfile: `FROM busybox\nRUN --network=host ls /sys/class/net > /host-${nonce}\nRUN --network=none ls /sys/class/net > /none\n` });
    await build(ctx, ['-t', 'net:1']);
    const fs = listing(await flatten(readImageFiles(t.root, 'net:1').layers));
    const host = `${readdirSync('/sys/class/net').sort().join('\n')}\n`;
    expect(host).not.toBe('lo\n'); // the test means something only on a host with another interface
    expect(fs).toMatch(fileLine(`/host-${nonce}`, host));
    expect(fs).toMatch(fileLine('/none', 'lo\n'));
  });

  test('RUN heredocs: a quoted delimiter keeps $VAR for the command, an unquoted one lets the shell expand it', async () => {
    const ctx = ctxDir({ Buildfile: "FROM busybox\nENV V=value\nRUN cat <<'EOF' > /quoted && cat <<EOF > /plain\n$V\nEOF\n$V\nEOF\n" });
    await build(ctx, ['-t', 'heredoc-quote:1']);
    const fs = listing(await flatten(readImageFiles(t.root, 'heredoc-quote:1').layers));
    expect(fs).toMatch(fileLine('/quoted', '$V\n'));
    expect(fs).toMatch(fileLine('/plain', 'value\n'));
  });
});

/** fileLine matches a listing's line for a root-owned 0644 file with exactly this content. */
function fileLine(path: string, content: string): RegExp {
  const sha = createHash('sha256').update(content).digest('hex').slice(0, 16);
  return new RegExp(`^${path.replace(/[.$]/g, '\\$&')} file 0644 0:0 ${Buffer.byteLength(content)} ${sha}$`, 'm');
}

/** filesUnder lists every regular file below dir. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try { names = readdirSync(d); } catch { return; }
    for (const n of names) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function contains(file: string, needle: Buffer): boolean {
  const data = readFileSync(file);
  if (data.includes(needle)) return true;
  return data[0] === 0x1f && data[1] === 0x8b && gunzipSync(data).includes(needle);
}

describe.runIf(isRoot && hasBusybox())('secrets', () => {
  test("a secret's value appears in no blob, cache record or snapshot, and does not change the cache key", async () => {
    const fileSecret = `tsbuild-file-secret-${randomBytes(12).toString('hex')}`;
    const envSecret = `tsbuild-env-secret-${randomBytes(12).toString('hex')}`;
    const secretFile = join(t.dir, 'secret.txt');
    writeFileSync(secretFile, fileSecret);
    const ctx = ctxDir({
      Buildfile: [
        'FROM busybox',
        'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" != "" && wc -c < /run/secrets/tok > /tok-length',
        'RUN --mount=type=secret,id=envtok,target=/etc/envtok,mode=0444 cp /etc/envtok /tmp/copy && rm /tmp/copy && echo used > /envtok-used',
        'RUN --mount=type=secret,id=tok,required=true --mount=type=cache,id=secret-test,target=/cache sha256sum /run/secrets/tok | cut -c1-8 > /cache/hash-prefix && cp /cache/hash-prefix /',
        '',
      ].join('\n'),
    });
    const flags = ['--secret', `id=tok,src=${secretFile}`, '--secret', 'id=envtok,env=SECRET_ENV'];
    await build(ctx, [...flags, '-t', 'secret:1'], { SECRET_ENV: envSecret });
    const fs = listing(await flatten(readImageFiles(t.root, 'secret:1').layers));
    expect(fs).toMatch(/^\/tok-length file /m);
    expect(fs).not.toMatch(/secrets\/tok |\/etc\/envtok /);
    const files = ['oci/blobs', 'cache', 'snapshots'].flatMap((d) => filesUnder(join(t.root, d)));
    expect(files.length).toBeGreaterThan(3);
    for (const needle of [fileSecret, envSecret]) {
      const leaks = files.filter((f) => contains(f, Buffer.from(needle)));
      expect(leaks, `${needle} found in the store`).toEqual([]);
    }
    writeFileSync(secretFile, `${fileSecret}-rotated`);
    const again = await build(ctx, flags, { SECRET_ENV: `${envSecret}-rotated` });
    expect(again.ran).toEqual([]);
  });
});
