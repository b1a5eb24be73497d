#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS TSBUILD_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
// Node 20 parses NODE_EXTRA_CA_CERTS before any JavaScript runs (~90 ms a start, most
// of a cached rebuild): the line above starts Node without it and hands the path over;
// the first TLS connection loads it (src/sys/tlsTrust.ts).
import '../dist/tsbuild.mjs';
