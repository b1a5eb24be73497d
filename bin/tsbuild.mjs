#!/usr/bin/env node
import '../dist/tsbuild.mjs';
