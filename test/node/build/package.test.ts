/**
 * The two packages as `npm pack` makes them (`--dry-run`: the file lists npm would publish, nothing written):
 * - `video-chat-element` (the repository's root): the element, its only runtime dependency `lit`;
 * - `video-chat-relay` (server/package.json): the relay, named as its bin so that `npx video-chat-relay` starts it,
 *   with the server's dependencies and the element package (same version: it serves that bundle) as a dependency.
 *
 * Checked: licence file and metadata (`repository`, `homepage`, `bugs`, consistent across both); no tests, benchmarks
 * or benchmark notes shipped; every `exports` target shipped (the manifest, `package.json`, the framework typings and
 * editor data among them); every bare import of the shipped JavaScript declared as a dependency of its package; every
 * source map's `sources` resolving to a shipped file or carried in `sourcesContent`; the Custom Elements Manifest
 * naming shipped files only and no private member; the relay package holding the build of every relay source.
 * Needs the build (`npm run build`). That the tarballs install and run is test/e2e/package.test.ts.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';

const root = (path = ''): string => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));

interface Manifest {
  name: string;
  version: string;
  license?: string;
  homepage?: string;
  repository?: { type?: string; url?: string; directory?: string };
  bugs?: { url?: string };
  bin?: Record<string, string>;
  exports?: unknown;
  files?: string[];
  dependencies?: Record<string, string>;
  customElements?: string;
  'web-types'?: string;
}

interface Packed {
  /** The package directory. */
  dir: string;
  json: Manifest;
  /** Paths inside the package, as `npm pack` lists them. */
  files: Set<string>;
}

/** `npm pack --dry-run --json` in `dir` (lifecycle scripts off: the build already ran). */
function pack(dir: string): Promise<Packed> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts', '--workspaces=false'],
      { cwd: dir, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`npm pack --dry-run in ${dir} failed: ${stderr}`, { cause: error }));
          return;
        }
        const [result] = JSON.parse(stdout) as { files: { path: string }[] }[];
        assert.ok(result, `npm pack --dry-run in ${dir} listed nothing`);
        const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
        resolve({ dir, json, files: new Set(result.files.map((file) => file.path)) });
      },
    );
  });
}

/** Every string leaf of an `exports` value (conditions and subpaths flattened). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets);
  return [];
}

/** `./lib/src/index.js` → `lib/src/index.js` (the form npm pack lists). */
const inPackage = (path: string): string => normalize(path).replace(/^\.\//, '');

/** The package a bare specifier names: `lit/directives/live.js` → `lit`, `@scope/name/x` → `@scope/name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Whether the installed package `name` carries its own TypeScript declarations. */
function hasOwnTypes(name: string): boolean {
  const dir = root(`node_modules/${name}`);
  if (!existsSync(join(dir, 'package.json'))) return false;
  const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  return (
    typeof json['types'] === 'string' ||
    typeof json['typings'] === 'string' ||
    JSON.stringify(json['exports'] ?? null).includes('"types"') ||
    existsSync(join(dir, 'index.d.ts'))
  );
}

/** The bare module specifiers (not relative, not `node:`) imported by a JavaScript file. */
function bareImports(source: string): string[] {
  const found = new Set<string>();
  // tsc's output: one `import … from '…'` / `export … from '…'` / `import '…'` per statement, or `import('…')`.
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const match of patterns.flatMap((pattern) => [...source.matchAll(pattern)])) {
    const specifier = match[1] ?? '';
    if (!specifier.startsWith('.') && !specifier.startsWith('node:') && !specifier.startsWith('/'))
      found.add(specifier);
  }
  return [...found];
}

describe('the packed packages', { timeout: 300_000 }, () => {
  let element: Packed;
  let relay: Packed;
  before(async () => {
    assert.ok(existsSync(root('dist/video-chat.js')), 'dist/ is missing: run npm run build first');
    assert.ok(existsSync(root('server/lib/server/src/cli.js')), 'server/lib/ is missing: run npm run build first');
    [element, relay] = await Promise.all([pack(root()), pack(root('server'))]);
  });

  it('two packages: video-chat-element at the root, video-chat-relay in server/, a workspace', () => {
    assert.equal(element.json.name, 'video-chat-element');
    assert.equal(relay.json.name, 'video-chat-relay');
    const workspaces = (JSON.parse(readFileSync(root('package.json'), 'utf8')) as { workspaces?: string[] }).workspaces;
    assert.deepEqual(workspaces, ['server']);
  });

  it('the relay package is named as its only bin, so `npx video-chat-relay` starts it', () => {
    assert.deepEqual(Object.keys(relay.json.bin ?? {}), [relay.json.name]);
    const bin = inPackage(relay.json.bin?.[relay.json.name] ?? '');
    assert.ok(relay.files.has(bin), `${bin} is shipped`);
    assert.match(readFileSync(join(relay.dir, bin), 'utf8'), /^#!\/usr\/bin\/env node\n/);
    assert.equal(element.json.bin, undefined, 'the element package has no bin');
  });

  it('the element depends on lit only; the relay on the server stack and the same version of the element', () => {
    assert.deepEqual(Object.keys(element.json.dependencies ?? {}), ['lit']);
    const relayDeps = relay.json.dependencies ?? {};
    for (const name of ['ws', 'pino', 'prom-client', 'jose', 'send', 'negotiator']) {
      assert.ok(relayDeps[name], `video-chat-relay depends on ${name}`);
    }
    assert.equal(relayDeps['video-chat-element'], element.json.version, 'the relay pins the element it serves');
    assert.equal(relay.json.version, element.json.version, 'both packages are released together');
  });

  it('every bare import of the shipped JavaScript and types is a dependency of its package', () => {
    for (const pkg of [element, relay]) {
      const declared = new Set(Object.keys(pkg.json.dependencies ?? {}));
      const missing = new Set<string>();
      for (const file of pkg.files) {
        if (file.startsWith('dist/') || file.startsWith('lib/types/')) continue; // self-contained; framework typings
        const types = file.endsWith('.d.ts');
        if (!types && !file.endsWith('.js')) continue;
        for (const specifier of bareImports(readFileSync(join(pkg.dir, file), 'utf8'))) {
          const name = packageOf(specifier);
          // A declaration file's import needs the package's own types or its DefinitelyTyped package declared.
          const typesName = `@types/${name.replace(/^@([^/]+)\//, '$1__')}`;
          const ok = types ? (declared.has(name) && hasOwnTypes(name)) || declared.has(typesName) : declared.has(name);
          if (!ok) missing.add(`${file}: ${specifier}`);
        }
      }
      assert.deepEqual([...missing], [], `${pkg.json.name} imports packages it does not depend on`);
    }
  });

  it('both ship the MIT licence file and the same repository, homepage and bugs (placeholder URL)', () => {
    const license = readFileSync(root('LICENSE'), 'utf8');
    assert.match(license, /^MIT License\n/);
    for (const pkg of [element, relay]) {
      assert.equal(pkg.json.license, 'MIT', `${pkg.json.name}: license`);
      assert.ok(pkg.files.has('LICENSE'), `${pkg.json.name} ships LICENSE`);
      assert.equal(readFileSync(join(pkg.dir, 'LICENSE'), 'utf8'), license, `${pkg.json.name}: the same LICENSE`);
      assert.ok(pkg.files.has('README.md'), `${pkg.json.name} ships a README`);
      assert.equal(pkg.json.repository?.type, 'git');
      assert.equal(pkg.json.repository?.url, element.json.repository?.url, `${pkg.json.name}: repository`);
      const repo = (element.json.repository?.url ?? '').replace(/^git\+/, '').replace(/\.git$/, '');
      assert.match(repo, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
      assert.equal(pkg.json.bugs?.url, `${repo}/issues`, `${pkg.json.name}: bugs`);
      assert.ok(pkg.json.homepage?.startsWith(repo), `${pkg.json.name}: homepage in the repository`);
    }
    assert.equal(relay.json.repository?.directory, 'server');
  });

  it('no tests, benchmarks, benchmark notes or build caches are shipped', () => {
    for (const pkg of [element, relay]) {
      const unwanted = [...pkg.files].filter(
        (file) =>
          /(^|\/)(test|tests|bench|docs)\//.test(file) ||
          /\.test\.[jt]s/.test(file) ||
          /bench/i.test(file) ||
          /tsbuildinfo/.test(file) ||
          // TypeScript sources ship only as the element's src/ (what its lib/src/*.js.map point at).
          (file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.startsWith('src/')),
      );
      assert.deepEqual(unwanted, [], `${pkg.json.name} ships what users do not need`);
    }
  });

  it('every exports target is shipped, the manifest and package.json among them', () => {
    for (const pkg of [element, relay]) {
      const exports = pkg.json.exports as Record<string, unknown>;
      assert.equal(exports['./package.json'], './package.json', `${pkg.json.name} exports ./package.json`);
      for (const target of exportTargets(exports)) {
        assert.ok(pkg.files.has(inPackage(target)), `${pkg.json.name}: exports target ${target} is shipped`);
      }
    }
    const exports = element.json.exports as Record<string, unknown>;
    for (const subpath of [
      './custom-elements.json',
      './react',
      './vue',
      './vscode.html-custom-data.json',
      './vscode.css-custom-data.json',
      './web-types.json',
    ]) {
      assert.ok(exports[subpath], `video-chat-element exports ${subpath}`);
    }
    assert.ok(element.files.has(inPackage(element.json.customElements ?? '')), 'customElements is shipped');
    assert.ok(element.files.has(inPackage(element.json['web-types'] ?? '')), 'web-types is shipped');
  });

  it('every source map resolves: each source is shipped or carried in sourcesContent', () => {
    let maps = 0;
    for (const pkg of [element, relay]) {
      for (const file of pkg.files) {
        if (!file.endsWith('.map')) continue;
        maps++;
        const map = JSON.parse(readFileSync(join(pkg.dir, file), 'utf8')) as {
          sources: string[];
          sourceRoot?: string;
          sourcesContent?: (string | null)[];
        };
        assert.ok(map.sources.length > 0, `${file} names its sources`);
        map.sources.forEach((source, i) => {
          const resolved = normalize(join(dirname(file), map.sourceRoot ?? '', source));
          const carried = typeof map.sourcesContent?.[i] === 'string' && map.sourcesContent[i] !== '';
          assert.ok(
            pkg.files.has(resolved) || carried,
            `${pkg.json.name}/${file}: source ${source} is neither shipped (${resolved}) nor in sourcesContent`,
          );
        });
      }
    }
    assert.ok(maps > 30, `source maps were found (${maps})`);
  });

  it('custom-elements.json names shipped files and no private member', () => {
    const manifest = JSON.parse(readFileSync(root('custom-elements.json'), 'utf8')) as {
      modules: {
        path: string;
        typeDefinitionPath?: string;
        declarations?: { tagName?: string; members?: { name: string; privacy?: string }[] }[];
      }[];
    };
    const paths: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if ((key === 'path' || key === 'module' || key === 'typeDefinitionPath') && typeof value === 'string') {
            if (!value.startsWith('./') && !value.startsWith('../')) paths.push(value);
          } else walk(value);
        }
      }
    };
    walk(manifest.modules);
    assert.ok(paths.length > 10);
    for (const path of paths) {
      assert.ok(element.files.has(inPackage(path)), `the manifest names ${path}, which is not shipped`);
    }
    const element_ = manifest.modules.flatMap((m) => m.declarations ?? []).find((d) => d.tagName === 'video-chat');
    assert.ok(element_, 'the manifest declares <video-chat>');
    const members = manifest.modules.flatMap((m) => m.declarations ?? []).flatMap((d) => d.members ?? []);
    const hidden = members.filter((m) => m.privacy === 'private' || m.privacy === 'protected' || /^[#_]/.test(m.name));
    assert.deepEqual(
      hidden.map((m) => m.name),
      [],
      'private members are left out',
    );
    assert.ok(
      members.some((m) => m.name === 'room'),
      'public members are kept',
    );
  });

  it('the relay package holds the build of every relay source, and the protocol module it imports', () => {
    const sources = readdirSync(root('server/src')).filter((file) => file.endsWith('.ts'));
    assert.ok(sources.length > 10);
    for (const source of sources) {
      const js = `lib/server/src/${source.replace(/\.ts$/, '.js')}`;
      assert.ok(relay.files.has(js), `video-chat-relay ships ${js}`);
      assert.ok(relay.files.has(js.replace(/\.js$/, '.d.ts')), `video-chat-relay ships its types`);
    }
    assert.ok(relay.files.has('lib/src/protocol/relay.js'), 'the relay ships the wire protocol it is compiled with');
    assert.ok(!relay.files.has('lib/src/video-chat.js'), 'and nothing else of the browser side');
  });
});
