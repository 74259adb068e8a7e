#!/usr/bin/env node
// Regenerates imports/monitoring.coreos.com.ts from the prometheus-operator CRDs.
// The three CRDs share one API group: imported one by one, each would overwrite the module the
// previous one wrote, so they are joined into one multi-document file and imported once.
// Usage: node scripts/import-crds.js [DIR]   (DIR holds the CRD files; default ../shared/crds)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CRDS = [
  'monitoring.coreos.com_servicemonitors.yaml',
  'monitoring.coreos.com_podmonitors.yaml',
  'monitoring.coreos.com_prometheusrules.yaml',
];
const dir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '..', 'shared', 'crds'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crds-'));
const joined = path.join(tmp, 'monitoring.coreos.com.yaml');
fs.writeFileSync(joined, CRDS.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n---\n'));
execFileSync('npx', ['cdk8s', 'import', joined, '--language', 'typescript', '--output', 'imports', '--no-save', '--no-check-upgrade'], {
  cwd: path.join(__dirname, '..'),
  stdio: 'inherit',
});
fs.rmSync(tmp, { recursive: true, force: true });
