/**
 * The boundaries of docs/architecture.md are enforced, not promised: each check feeds a probe to the real tool that
 * guards it (TypeScript for the runtimes, ESLint for the layers) and expects the tool to refuse it, next to a control
 * probe that it accepts.
 * - Browser code (src/tsconfig.json) has no Node types: `Buffer` does not compile there.
 * - The relay (server/tsconfig.json) has no DOM: `document` does not compile there.
 * - The import rules of eslint.config.mjs refuse an import against the layer diagram.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';

const ROOT = resolve(import.meta.dirname, '../../../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** Type-checks `source` as one file of the project at `project` (its lib and types); returns tsc's output, '' if clean. */
async function typeCheck(project: string, source: string): Promise<string> {
  // Inside the checkout (lib/ is build output), so that node_modules and package.json's "type" apply as for real files.
  const dir = await mkdtemp(join(ROOT, 'lib', 'boundary-probe-'));
  try {
    await writeFile(join(dir, 'probe.mts'), source);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(ROOT, project, 'tsconfig.json'),
        compilerOptions: { noEmit: true, composite: false, incremental: false, rootDir: dir },
        files: ['probe.mts'],
        include: [],
        references: [],
      }),
    );
    try {
      await promisify(execFile)(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { cwd: dir });
      return '';
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? error);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('runtime boundaries (TypeScript projects)', () => {
  it('browser code cannot use Node APIs', async () => {
    assert.equal(await typeCheck('src', 'export const title = document.title;\n'), '', 'control: the DOM is there');
    assert.match(
      await typeCheck('src', "export const bytes = Buffer.from('x');\n"),
      /TS2591: Cannot find name 'Buffer'/,
    );
  });

  it('the relay cannot use the DOM', async () => {
    assert.equal(await typeCheck('server', "export const bytes = Buffer.from('x');\n"), '', 'control: Node is there');
    assert.match(
      await typeCheck('server', 'export const title = document.title;\n'),
      /TS2584: Cannot find name 'document'/,
    );
  });
});

describe('layer boundaries (ESLint no-restricted-imports)', () => {
  // The probes exist only in memory: the project service may type them with its default project.
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: {
          parserOptions: { projectService: { allowDefaultProject: ['src/*/probe.ts', 'server/src/probe.ts'] } },
        },
      },
    ],
  });
  /** The `no-restricted-imports` messages for `code` placed at `file` (relative to the root). */
  const refusals = async (file: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
    assert.ok(result, 'ESLint linted the probe');
    return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  };
  const probe = (specifier: string) => `import '${specifier}';\nexport {};\n`;

  it('refuses arrows that point up or across, and only those', async () => {
    const cases: [file: string, specifier: string, refused: boolean][] = [
      ['src/protocol/probe.ts', './parse.js', false],
      ['src/protocol/probe.ts', '../errors.js', true],
      ['src/protocol/probe.ts', 'lit', true],
      ['src/negotiation/probe.ts', '../protocol/negotiation.js', false],
      ['src/negotiation/probe.ts', '../call/call-controller.js', true],
      ['src/signaling/probe.ts', '../ui/view.js', true],
      ['src/media/probe.ts', '../events.js', true],
      ['src/media/probe.ts', 'node:fs', true],
      ['src/call/probe.ts', '../negotiation/peer-session.js', false],
      ['src/call/probe.ts', '../ui/tiles.js', true],
      ['src/call/probe.ts', 'lit', true],
      ['src/diagnose/probe.ts', '../protocol/relay.js', false],
      ['src/diagnose/probe.ts', '../diagnosis.js', false],
      ['src/diagnose/probe.ts', '../ui/diagnosis.js', true],
      ['src/diagnose/probe.ts', '../signaling/signaling-client.js', true],
      ['src/diagnose/probe.ts', 'lit', true],
      ['src/ui/probe.ts', '../call/types.js', false],
      ['src/ui/probe.ts', '../video-chat.js', true],
      ['src/ui/probe.ts', '../negotiation/peer-session.js', true],
      ['server/src/probe.ts', '../../src/protocol/relay.js', false],
      ['server/src/probe.ts', '../../src/protocol/negotiation.js', true],
      ['server/src/probe.ts', '../../src/video-chat.js', true],
    ];
    for (const [file, specifier, refused] of cases) {
      const messages = await refusals(file, probe(specifier));
      assert.equal(messages.length > 0, refused, `${file} importing ${specifier}: ${refused ? 'refused' : 'allowed'}`);
    }
  });
});
