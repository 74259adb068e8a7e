'use strict';
// docs/benchmarks.md is shared by the benchmark scripts: each rewrites only its own section (from
// its `## ` heading to the next one) where it stands, or adds it at the end the first time.
const fs = require('node:fs');
const path = require('node:path');

const FILE = path.join(__dirname, '..', '..', 'docs', 'benchmarks.md');

/** Puts `text`, a section that starts with `heading`, in place of that section; returns the file. */
function writeSection(heading, text) {
  const existing = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const sections = existing.split(/^(?=## )/m);
  const at = sections.findIndex((s) => s.startsWith(heading));
  if (at === -1) sections.push(text);
  else sections[at] = text;
  fs.mkdirSync(path.dirname(FILE), { recursive: true });
  fs.writeFileSync(FILE, `${sections.map((s) => s.trimEnd()).join('\n\n')}\n`);
  return FILE;
}

module.exports = { writeSection };
