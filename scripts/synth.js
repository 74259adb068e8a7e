#!/usr/bin/env node
// `npm run synth`: `cdk8s synth` into a fresh folder beside the output, which replaces the output
// only once the synthesis succeeded. The cdk8s CLI empties its output folder before it runs the
// app, so a failing app would otherwise leave dist/ half-written or gone.
// Usage: node scripts/synth.js [--output DIR] [other `cdk8s synth` options, e.g. --app CMD]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const at = args.indexOf('--output');
const output = path.resolve(at >= 0 ? args.splice(at, 2)[1] : 'dist');
fs.mkdirSync(path.dirname(output), { recursive: true });
const staging = fs.mkdtempSync(`${output}.synth-`);
const previous = `${staging}.previous`;

const cli = spawnSync('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--output', staging, ...args], { stdio: 'inherit' });
if (cli.status !== 0) {
  fs.rmSync(staging, { recursive: true, force: true });
  console.error(`synth failed (exit ${cli.status ?? cli.signal}): ${path.relative(process.cwd(), output) || output} left as it was`);
  process.exit(cli.status || 1);
}
// Two renames on one file system: at no moment is the output folder half-written.
if (fs.existsSync(output)) fs.renameSync(output, previous);
fs.renameSync(staging, output);
fs.rmSync(previous, { recursive: true, force: true });
