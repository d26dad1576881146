import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// parseLine validates JSON with a hand-written scan instead of JSON.parse (bench/README.md says why). A scan
// that accepted one invalid line would ship broken JSON; one that refused a valid line would tag it
// __parse_error__. bench/check-parse.mjs compares it with the JSON.parse-only original on generated audit
// lines, the real fixtures, hand-picked edge cases and seeded random mutations; it exits non-zero on the first
// difference.
test('the validating scan gives exactly the ShipEvents JSON.parse would, on 20,000 seeded mutations and every edge case', () => {
  const script = fileURLToPath(new URL('../../../bench/check-parse.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--fuzz', '20000'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout).toMatch(/parse check: \d+ lines .* identical to the original parseLine/);
  expect(r.stdout).toMatch(/eventTime check: \d+ timestamps identical/);
});
