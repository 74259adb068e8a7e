import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkManifests } from './helpers/synth';

/**
 * Every TypeScript block of README.md and docs/*.md compiles and synthesizes as written, with the
 * project's TypeScript against the library's source (imported as 'cdk8s-batch-monitoring', as a
 * user's app does). A block whose first line is CONTINUES runs after the block before it in the
 * same file. docs/API.md is left out: jsii-docgen generates it, with signatures rather than apps.
 */
const CONTINUES = '// continues the block above';
const root = path.resolve(__dirname, '..');
const SOURCES = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'API.md').sort().map((f) => `docs/${f}`)];

interface Example {
  /** Where the block (the last one, for a continuation) starts: `docs/x.md:12`. */
  readonly where: string;
  /** The block's code, after the blocks it continues. */
  readonly code: string;
  /** The file it is written to for tsc and tsx. */
  readonly file: string;
}

/** The ```ts blocks of one Markdown file, indented ones (in a list) included, joined where one continues another. */
function extractExamples(markdown: string, source: string): Array<{ where: string; code: string }> {
  const examples: Array<{ where: string; code: string }> = [];
  const fence = /^( *)```ts\n([\s\S]*?)^\1```$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) {
    const indent = m[1].length;
    const code = m[2].split('\n').map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
    const where = `${source}:${markdown.slice(0, m.index).split('\n').length}`;
    if (code.startsWith(CONTINUES)) {
      const previous = examples.pop();
      if (!previous) throw new Error(`${where}: "${CONTINUES}", but no block comes before it`);
      examples.push({ where, code: `${previous.code}${code}` });
    } else {
      examples.push({ where, code });
    }
  }
  return examples;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-examples-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
// The app folder a user would have: the library's peers in node_modules (the project's own, so
// that the library and the blocks share one copy of cdk8s), the library through `paths`.
fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir');
// The project's settings (lib/ is compiled with them), less what does not fit an excerpt.
const COMPILER_OPTIONS = {
  ...JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')).compilerOptions,
  noUnusedLocals: false,
  noUnusedParameters: false,
  declaration: false,
  noEmit: true,
  paths: { 'cdk8s-batch-monitoring': [path.join(root, 'lib', 'index.ts')] },
};
fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({ compilerOptions: COMPILER_OPTIONS }, null, 2));

const examples: Example[] = SOURCES.flatMap((source) => extractExamples(fs.readFileSync(path.join(root, source), 'utf8'), source))
  .map((e, i) => {
    const file = path.join(work, `example-${i}.ts`);
    // `export {}` keeps each block a module of its own, even one without imports.
    fs.writeFileSync(file, `${e.code}\nexport {};\n`);
    return { ...e, file };
  });

/** One tsc program for all blocks: their diagnostics, by file. */
function typeCheck(): Map<string, string[]> {
  const { options, errors } = ts.convertCompilerOptionsFromJson(COMPILER_OPTIONS, work);
  if (errors.length) throw new Error(ts.formatDiagnostics(errors, formatHost));
  const program = ts.createProgram(examples.map((e) => e.file), options);
  const byFile = new Map<string, string[]>(examples.map((e) => [e.file, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '';
    const list = byFile.get(path.resolve(file)) ?? byFile.get(examples[0].file)!;
    list.push(ts.formatDiagnostic(d, formatHost).trim());
  }
  return byFile;
}
const formatHost: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => work, getNewLine: () => '\n' };

interface Run { error?: string; files: Record<string, string> }

/**
 * Runs every block in one Node process with tsx (no type check, as cdk8s.yaml runs an app), each in
 * a folder of its own, so that `new App()` synthesizes to that folder's dist/ and any file the
 * block writes stays there. Returns, per block, its error or the files it wrote.
 */
function runAll(): Run[] {
  const runner = path.join(work, 'run-examples.cjs');
  fs.writeFileSync(runner, `
    const fs = require('node:fs');
    const path = require('node:path');
    const [results, ...files] = process.argv.slice(2);
    const runs = files.map((file, i) => {
      const dir = path.join(path.dirname(file), 'run-' + i);
      fs.mkdirSync(dir);
      process.chdir(dir);
      try {
        require(file);
      } catch (e) {
        return { error: String(e && e.stack || e), files: {} };
      }
      const written = {};
      for (const f of fs.readdirSync(dir, { recursive: true })) {
        const p = path.join(dir, f);
        if (fs.statSync(p).isFile()) written[f] = fs.readFileSync(p, 'utf8');
      }
      return { files: written };
    });
    fs.writeFileSync(results, JSON.stringify(runs));
  `);
  const results = path.join(work, 'results.json');
  const r = spawnSync(process.execPath, ['--import', 'tsx', runner, results, ...examples.map((e) => e.file)], {
    cwd: work, encoding: 'utf8', env: { ...process.env, TSX_TSCONFIG_PATH: path.join(work, 'tsconfig.json') },
  });
  if (r.status !== 0) throw new Error(`running the examples failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(fs.readFileSync(results, 'utf8'));
}

describe('the TypeScript blocks of README.md and docs/*.md', () => {
  let diagnostics: Map<string, string[]>;
  let runs: Run[];
  beforeAll(() => {
    diagnostics = typeCheck();
    runs = runAll();
  }, 120_000);

  test('are found: the README\'s first app and the docs\' examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(9);
    expect(examples[0].where).toMatch(/^README\.md:/);
    expect(examples[0].code).toContain('new MonitoredCronJob(');
  });

  test.each(examples.map((e, i) => [e.where, i] as const))('%s compiles as written', (_where, i) => {
    expect(diagnostics.get(examples[i].file)).toEqual([]);
  });

  test.each(examples.map((e, i) => [e.where, i] as const))('%s synthesizes manifests that pass every check', (_where, i) => {
    const run = runs[i];
    expect(run.error).toBeUndefined();
    const manifests = Object.entries(run.files).filter(([f]) => f.startsWith(`dist${path.sep}`));
    expect(manifests.length, 'the block synthesizes into dist/ (app.synth())').toBeGreaterThan(0);
    for (const [f] of manifests) expect(f, 'dist/ holds manifests only').toMatch(/\.k8s\.yaml$/);
    checkManifests(manifests.flatMap(([, yaml]) => parseAllDocuments(yaml).map((d) => d.toJS())));
  });

  test('the README\'s first app writes the Grafana files beside dist/, not into it', () => {
    expect(Object.keys(runs[0].files).sort()).toEqual([
      path.join('dist', 'batch-monitoring.k8s.yaml'),
      path.join('grafana', 'batch-jobs.json'),
      path.join('grafana', 'grafana-dashboard-batch-jobs.patch.json'),
    ]);
  });
});

describe('extractExamples', () => {
  test('joins a block that continues the one before, and dedents blocks in lists', () => {
    const md = [
      '```ts', 'const a = 1;', '```', 'text', '   ```ts', `   ${CONTINUES}`, '   const b = a;', '   ```', '```ts', 'const c = 3;', '```', '',
    ].join('\n');
    expect(extractExamples(md, 'x.md')).toEqual([
      { where: 'x.md:5', code: `const a = 1;\n${CONTINUES}\nconst b = a;\n` },
      { where: 'x.md:9', code: 'const c = 3;\n' },
    ]);
  });

  test('fails for a continuation with nothing before it', () => {
    expect(() => extractExamples(['```ts', CONTINUES, '```'].join('\n'), 'x.md')).toThrow(/x\.md:1: "\/\/ continues the block above", but no block comes before it/);
  });
});
