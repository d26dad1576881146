/** Every line of the real audit fixtures (test/fixtures/audit/), parsed as tailship parses a JSON input. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../../../src/batch/batch.js';
import { parseLine } from '../../../src/parse/parse-line.js';
import type { ShipEvent } from '../../../src/parse/ship-event.js';
import { AUDIT_FIXTURES } from '../../helpers/audit-gen.js';

export function fixtureEvents(): Array<{ file: string; event: ShipEvent }> {
  const out: Array<{ file: string; event: ShipEvent }> = [];
  const files = [
    ...readdirSync(join(AUDIT_FIXTURES, 'falco-k8s_audit')).filter((f) => f.endsWith('.json')).map((f) => join('falco-k8s_audit', f)),
    'apisnoop-example-user-agent.log',
  ];
  for (const file of files) {
    for (const line of readFileSync(join(AUDIT_FIXTURES, file), 'utf8').split('\n')) {
      const text = line.replace(/\r$/, '');
      if (text === '') continue;
      out.push({ file, event: parseLine(text, false, true, 1_700_000_000_000) });
    }
  }
  return out;
}

/** The fixture events that are audit Events (kind Event), in batches of `size`, tagged as an ACK audit input. */
export function fixtureBatches(size = 10, tags: Record<string, string> = {}): Batch[] {
  const events = fixtureEvents().map((f) => f.event).filter((e) => e.isObject && /"kind"\s*:\s*"Event"/.test(e.raw));
  const batches: Batch[] = [];
  for (let i = 0; i < events.length; i += size) {
    const part = events.slice(i, i + size);
    batches.push({
      id: `fixtures:${i}-${i + part.length}`,
      inputKey: 'audit-c0123456789abcdef0123456789abcdef',
      logstore: 'audit-c0123456789abcdef0123456789abcdef',
      product: 'k8s-audit',
      source: 'master-1',
      tags: { audit: 'apiserver', __hostname__: 'master-1', __path__: '/var/log/kubernetes/audit.log', __cluster_id__: 'c0123456789abcdef0123456789abcdef', ...tags },
      events: part,
      rawBytes: part.reduce((s, e) => s + Buffer.byteLength(e.raw), 0),
      range: { stream: 'fixtures', start: i * 1000, end: (i + part.length) * 1000 },
      shard: 2,
      ttl: 90,
      logstoreMode: 'standard',
    });
  }
  return batches;
}
