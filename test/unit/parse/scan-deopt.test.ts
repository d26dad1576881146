import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// The validating scan reads one character past the end of every line. A charCodeAt out of bounds deoptimises
// the function, and V8 then calls the charCodeAt builtin at that site from then on instead of inlining it
// (4 % of the steady main thread, bench/README.md). The scan's reads go through a bounds-checked helper; this
// runs the built parser under --trace-deopt on lines of every shape and fails on an out-of-bounds deopt.
test('scanning lines never deoptimises the scan on an out-of-bounds read', () => {
  const parser = new URL('../../../dist/parse/parse-line.js', import.meta.url).href;
  const script = `
    const { parseLine } = await import(${JSON.stringify(parser)});
    const lines = [
      '{"kind":"Event","level":"Metadata","stageTimestamp":"2026-01-02T03:04:05.123456Z","n":12,"f":-1.5e3,"b":true,"x":null}',
      '{"a":[1,2,{"b":"c\\\\u00e9"}],"requestReceivedTimestamp":"2026-01-02T03:04:05Z"}  ',
      '{}', ' { "a" : [ ] } ', '{"a":', '{"a":1', '{"a":"x\\\\', '{"a":1e', '{"a":-', '{"a":"\\\\u12', '{"a"', '{', '',
    ];
    let n = 0;
    for (let r = 0; r < 20000; r++) for (const l of lines) if (parseLine(l, false, true, 0).isObject) n++;
    console.log('objects', n);
  `;
  const r = spawnSync(process.execPath, ['--trace-deopt', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/objects 80000/);
  const oob = r.stdout.split('\n').filter((l) => /out of bounds/.test(l));
  expect(oob, oob.join('\n')).toEqual([]);
});
