/**
 * The framework typings the element package ships (`video-chat-element/react`, `video-chat-element/vue`, generated from
 * the Custom Elements Manifest by `npm run build`, see custom-elements-manifest.config.mjs) work in a consumer's
 * project: a React 19 TSX file (`tsc`, `jsx: react-jsx`, @types/react 19) and a Vue single-file component (`vue-tsc`)
 * using `<video-chat>` with its attributes type-check, and the same element with an attribute of the wrong type does
 * not. Without the React typings the TSX file fails as the issue reported (TS2339 on `JSX.IntrinsicElements`).
 *
 * Each case is a project of its own in a temporary folder (strict, `skipLibCheck: false`, no ambient types) whose
 * `node_modules` is the repository's: `video-chat-element` resolves to this package through its `exports`, as in an
 * app that installed it. The fixtures are in ./fixtures/. Needs the build.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const root = (path: string): string => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const fixture = (name: string): string => root(`test/node/build/fixtures/${name}`);

const TSC = root('node_modules/typescript/bin/tsc');
const VUE_TSC = root('node_modules/vue-tsc/bin/vue-tsc.js');

/** What a consumer's strict tsconfig has; `jsx` for React, nothing for Vue (vue-tsc knows .vue files). */
function tsconfig(files: readonly string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'bundler',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      lib: ['ES2023', 'DOM', 'DOM.Iterable'],
      types: [],
      ...extra,
    },
    files,
  });
}

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A consumer project with these fixtures (copied under their own names) and this tsconfig. */
function project(fixtures: readonly string[], config: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'video-chat-types-'));
  folders.push(dir);
  symlinkSync(root('node_modules'), join(dir, 'node_modules'), 'dir');
  for (const name of fixtures) copyFileSync(fixture(name), join(dir, name));
  writeFileSync(join(dir, 'tsconfig.json'), config);
  return dir;
}

/** Runs a type checker (`node BIN -p DIR`): its exit code and output (at most 120 s). */
function check(bin: string, dir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, '-p', dir], { timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

describe('framework typings generated from the manifest', { timeout: 600_000 }, () => {
  it('the build wrote them, and the package exports them', () => {
    for (const file of ['lib/types/react.d.ts', 'lib/types/vue.d.ts']) {
      assert.ok(existsSync(root(file)), `${file} is missing: run npm run build first`);
    }
  });

  it('React 19: a TSX file using <video-chat> with its attributes type-checks', async () => {
    const dir = project(['react-call.tsx'], tsconfig(['react-call.tsx'], { jsx: 'react-jsx' }));
    const { code, output } = await check(TSC, dir);
    assert.equal(output.trim(), '', 'tsc reports nothing');
    assert.equal(code, 0);
  });

  it('React 19: a wrong attribute type (max-peers="four") fails with TS2322', async () => {
    const dir = project(['react-wrong-type.tsx'], tsconfig(['react-wrong-type.tsx'], { jsx: 'react-jsx' }));
    const { code, output } = await check(TSC, dir);
    assert.notEqual(code, 0, 'tsc fails');
    assert.match(output, /react-wrong-type\.tsx\(6,\d+\): error TS2322:/);
    assert.match(output, /"max-peers"/);
    assert.match(output, /Type 'string' is not assignable to type 'number'/);
  });

  it("React 19: without the typings, the issue's TS2339 ('video-chat' not on JSX.IntrinsicElements)", async () => {
    const dir = project([], tsconfig(['app.tsx'], { jsx: 'react-jsx' }));
    // react-call.tsx without its `import type {} from 'video-chat-element/react'` line.
    const source = readFileSync(fixture('react-call.tsx'), 'utf8');
    const without = source.replace("import type {} from 'video-chat-element/react';\n", '');
    assert.notEqual(without, source, 'the fixture imports the typings');
    writeFileSync(join(dir, 'app.tsx'), without);
    const { code, output } = await check(TSC, dir);
    assert.notEqual(code, 0);
    assert.match(output, /error TS2339: Property 'video-chat' does not exist on type 'JSX\.IntrinsicElements'/);
  });

  it('Vue: a single-file component using <video-chat> with its attributes type-checks (vue-tsc)', async () => {
    const dir = project(['vue-call.vue'], tsconfig([], {}).replace('"files":[]', '"include":["*.vue"]'));
    const { code, output } = await check(VUE_TSC, dir);
    assert.equal(output.trim(), '', 'vue-tsc reports nothing');
    assert.equal(code, 0);
  });

  it('Vue: a wrong attribute type (:room="42") fails with TS2322 (vue-tsc)', async () => {
    const dir = project(['vue-wrong-type.vue'], tsconfig([], {}).replace('"files":[]', '"include":["*.vue"]'));
    const { code, output } = await check(VUE_TSC, dir);
    assert.notEqual(code, 0, 'vue-tsc fails');
    assert.match(
      output,
      /vue-wrong-type\.vue\(10,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/,
    );
  });
});
