// Item 16 of issue 10: the README contradicted itself and the code. These checks tie its numbers to their sources.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../../src/config/options.js';
import { loadDeployment, repoRoot } from './k8s.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
const shebang = readFileSync(join(repoRoot, 'src/cli.ts'), 'utf8').split('\n')[0]!;

describe('item 16: README agrees with the code', () => {
  it('item 16: the Node.js minimum is the engines one', () => {
    const min = /^>=\s*(\S+)$/.exec(pkg.engines.node)![1]!;
    const stated = [...readme.matchAll(/Node(?:\.js)? ≥ (\d+(?:\.\d+)*)/g)].map((m) => m[1]);
    expect(stated.length).toBeGreaterThan(0);
    for (const v of stated) expect(v).toBe(min);
  });

  it('item 16: the heap flags it tells you to set are the DaemonSet, image and shebang ones', () => {
    const { container } = loadDeployment();
    const nodeOptions = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
    expect(shebang).toContain(nodeOptions!);
    // Every "NODE_OPTIONS=--max-old-space-size=N" recommended as a setting (a bold list item) matches.
    for (const m of readme.matchAll(/\*\*`NODE_OPTIONS=([^`]+)`:\*\*/g)) expect(m[1]).toBe(nodeOptions);
  });

  it('item 16: the in-flight default is DEFAULT_OPTIONS.maxInflightBytes everywhere', () => {
    const mib = DEFAULT_OPTIONS.maxInflightBytes / 1024 / 1024;
    for (const m of readme.matchAll(/MAX_INFLIGHT_BYTES` \(default (\d+) MiB/g)) expect(Number(m[1])).toBe(mib);
    expect(readme).toContain(`\`${DEFAULT_OPTIONS.maxInflightBytes}\` (${mib} MiB)`);
  });

  it('item 16: one SLS credentials file name and one Secret name', () => {
    const files = new Set([...readme.matchAll(/TAILSHIP_SLS_CREDENTIALS_FILE=(\S+?)[`\s]/g)].map((m) => m[1]));
    expect([...files]).toEqual(['/etc/tailship/sls/credentials.json']);
    const secrets = new Set([...readme.matchAll(/create secret generic (\S+)/g)].map((m) => m[1]));
    // The webhook's TLS Secret is another Secret for another purpose; the SLS one has one name.
    expect([...secrets].filter((s) => s !== 'tailship-webhook-tls')).toEqual(['tailship-sls']);
  });
});
