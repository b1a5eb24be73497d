#!/usr/bin/env node
// Parser benchmark: bundles src/parser with esbuild (the grammar must have been
// compiled: `npm run grammar` or `npm run build`), generates a 10,000-line
// Buildfile that mixes every instruction, continuations, comments, JSON forms
// and heredocs, and reports the median time per parse as lines/s and MB/s.
// Usage: node bench/parser.mjs [lines=10000] [runs=15]
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const targetLines = Number(process.argv[2] ?? 10000);
const runs = Number(process.argv[3] ?? 15);

/** A block of instructions; each entry is one or more physical lines. */
const BLOCK = [
  '# stage {i}',
  'ARG VERSION_{i}=1.{i}',
  'FROM --platform=$BUILDPLATFORM golang:1.22 AS build{i}',
  'WORKDIR /src/{i}',
  'ENV A{i}=1 B{i}="two words" C{i}=three\\ words',
  'ENV LEGACY{i} some legacy value',
  'LABEL org.example.build="{i}" org.example.note=\'quoted\'',
  'COPY --link --chown=1000:1000 --exclude=*.md go.mod go.sum ./',
  'RUN --mount=type=cache,target=/root/.cache/go-build \\\n    --mount=type=cache,target=/go/pkg/mod \\\n    go build -o /out/app{i} ./cmd/app \\\n    # a comment inside the continuation\n    && strip /out/app{i}',
  'RUN <<EOF\nset -e\necho "building {i}"\nls -la /src\nEOF',
  'COPY <<-"CONF" /etc/app{i}.conf\n\tkey = value\n\tCONF',
  'ADD --checksum=sha256:0123456789abcdef https://example.com/{i}.tar.gz /tmp/',
  'FROM debian:bookworm-slim',
  'COPY --from=build{i} /out/app{i} /usr/local/bin/',
  'USER 10001:10001',
  'EXPOSE 8080/tcp 9090',
  'VOLUME ["/data", "/logs"]',
  'HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["curl", "-f", "http://localhost/"]',
  'ONBUILD RUN echo triggered {i}',
  'STOPSIGNAL SIGTERM',
  'SHELL ["/bin/bash", "-euo", "pipefail", "-c"]',
  'ENTRYPOINT ["/usr/local/bin/app{i}"]',
  'CMD ["serve", "--port", "8080"]',
  '',
];

function generate(lines) {
  const out = [];
  for (let i = 0; out.length < lines; i++) {
    for (const entry of BLOCK) out.push(...entry.replaceAll('{i}', String(i)).split('\n'));
  }
  return out.slice(0, lines).join('\n') + '\n';
}

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));
try {
  const outfile = join(dir, 'parser.mjs');
  await build({ entryPoints: [join(root, 'src/parser/index.ts')], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning' });
  const { parseBuildfile } = await import(pathToFileURL(outfile).href);
  let text = generate(targetLines);
  // Cut at a line where the generated file still parses (not inside a heredoc).
  for (let cut = 0; ; cut++) {
    try { parseBuildfile(text, 'Buildfile'); break; } catch (e) {
      // A generated file that cannot be parsed after a few cuts is a parser bug, not a heredoc cut in half.
      if (cut === 20) throw e;
      text = text.split('\n').slice(0, -2).join('\n') + '\n';
    }
  }
  const lines = text.split('\n').length - 1;
  const bytes = Buffer.byteLength(text);
  for (let i = 0; i < 3; i++) parseBuildfile(text, 'Buildfile'); // warm up the JIT
  const times = [];
  let instructions = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    instructions = parseBuildfile(text, 'Buildfile').instructions.length;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const report = {
    lines, bytes, instructions, runs,
    medianMs: +median.toFixed(1), minMs: +times[0].toFixed(1),
    linesPerSec: Math.round(lines / (median / 1000)),
    mbPerSec: +((bytes / 1e6) / (median / 1000)).toFixed(2),
    node: process.version, cpu: cpus()[0]?.model, cores: cpus().length,
  };
  console.log(JSON.stringify(report, null, 2));
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(report) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
