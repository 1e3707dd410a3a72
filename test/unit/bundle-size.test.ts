/**
 * Size guard: the script-tag bundle dist/video-chat.js (built by `npm run build`, which `npm test` runs before this
 * stage) must stay at most 20 KiB gzip (level 9). Deterministic: the same bytes always give the same size, so this is
 * a budget, not a timing. The full size report (minified, gzip, brotli, next to Lit alone) is `npm run bench -- bundle`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** 20 KiB. */
const GZIP_BUDGET_BYTES = 20 * 1024;
// Compiled to lib/test/unit/: the project root is three levels up.
const BUNDLE = fileURLToPath(new URL('../../../dist/video-chat.js', import.meta.url));

describe('bundle size', () => {
  it(`dist/video-chat.js is at most ${GZIP_BUDGET_BYTES} bytes gzip (level 9)`, () => {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build first`);
    const bytes = readFileSync(BUNDLE);
    const gzip = gzipSync(bytes, { level: 9 }).length;
    assert.ok(
      gzip <= GZIP_BUDGET_BYTES,
      `dist/video-chat.js is ${gzip} bytes gzip, over the budget of ${GZIP_BUDGET_BYTES} by ${gzip - GZIP_BUDGET_BYTES}`,
    );
  });
});
