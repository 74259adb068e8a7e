#!/usr/bin/env node
// `npm run package [-- --no-build]`: the packages for the other jsii languages. Builds the library (jsii), lets
// jsii-pacmak generate the Python, Java, .NET and Go sources into build/packages/<language>, and
// builds the Python sdist and wheel into build/dist/python.
//
// pacmak runs with --code-only: its own Python build pip-installs pinned setuptools, build and
// twine from PyPI, and the Java, .NET and Go builds fetch the jsii runtimes from Maven Central,
// NuGet and the Go proxy. The Python distributions need only Python's `build`, `setuptools` and
// `wheel` modules (Debian: python3-build python3-setuptools python3-wheel), without network access.
// Set PYTHON to choose the interpreter; by default the first of /usr/bin/python3 and python3
// that has those modules.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const packages = path.join(root, 'build', 'packages');
const pythonDist = path.join(root, 'build', 'dist', 'python');
const PYTHON_MODULES = ['build', 'setuptools', 'wheel'];

/** Runs a command; with `quiet`, its output is shown only when it fails. */
function run(command, args, { quiet = false, env = process.env } = {}) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout}${result.stderr}`);
    console.error(`package: ${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal ?? result.error})`);
    process.exit(result.status || 1);
  }
}

/** The Python that can build the distributions: `{ python }`, or `{ problem }` saying what to install. */
function findPython() {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['/usr/bin/python3', 'python3'];
  const probe = PYTHON_MODULES.map((m) => `import ${m}`).join('; ');
  // -I: the project's build/ folder (jsii's output) must not pass for the `build` module.
  const python = candidates.find((c) => spawnSync(c, ['-I', '-c', probe], { stdio: 'ignore' }).status === 0);
  if (python) return { python };
  return {
    problem: `none of ${candidates.join(', ')} has the Python modules ${PYTHON_MODULES.join(', ')}: install them `
      + '(Debian: apt-get install python3-build python3-setuptools python3-wheel; elsewhere: '
      + 'pip install build setuptools wheel) or set PYTHON to an interpreter that has them',
  };
}

function main() {
  const { python, problem } = findPython();
  if (!python) {
    console.error(`package: ${problem}`);
    process.exit(1);
  }
  // --no-build: the caller has just run `npm run build` (CI's step before this one, the packaging
  // test's `npm pack`); jsii would only do it again.
  if (!process.argv.includes('--no-build')) run('npm', ['run', '-s', 'build']);
  fs.rmSync(packages, { recursive: true, force: true });
  fs.rmSync(pythonDist, { recursive: true, force: true });
  // jsii-pacmak packs the npm tarball it embeds with `npm pack`, whose prepack would run the whole
  // build again: it is built by now (above, or before --no-build).
  run('npx', ['jsii-pacmak', '--code-only', '--no-npmignore', '--outdir', packages], { env: { ...process.env, npm_config_ignore_scripts: 'true' } });
  run(python, ['-m', 'build', '--no-isolation', '--skip-dependency-check', '--outdir', pythonDist, path.join(packages, 'python')], { quiet: true });

  for (const language of fs.readdirSync(packages).sort()) console.log(`build/packages/${language}`);
  for (const file of fs.readdirSync(pythonDist).sort()) console.log(`build/dist/python/${file}`);
}

module.exports = { findPython };
if (require.main === module) main();
