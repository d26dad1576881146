import { describe, expect, test } from 'vitest';
import { markersJson, tagJsonWith, tagObjectJson } from '../../../src/deliver/render.js';

const ID = 'ab'.repeat(32);

describe('the __tag__ text of a log, built from the batch text serialised once', () => {
  const shareds: Array<Record<string, string> | undefined> = [
    undefined,
    {},
    { __hostname__: 'node-1', __path__: '/var/log/kubernetes/kubernetes.audit' },
    { '1': 'integer key first', audit: 'apiserver', quote: 'a"b\\c\u0001' },
    { __event_id__: 'shared one', __cluster_id__: 'c1' },
  ];
  const markerss: Array<Record<string, string> | undefined> = [
    undefined,
    {},
    { __event_id__: ID },
    { __event_id__: 'not hex "quoted"' },
    { __truncated__: 'true', __event_id__: ID },
    { __event_id__: ID, __cluster_id__: 'c2' },
    { '2': 'x', __event_id__: ID },
  ];
  for (const shared of shareds) {
    for (const markers of markerss) {
      test(`${JSON.stringify(shared)} + ${JSON.stringify(markers)}`, () => {
        expect(tagJsonWith(shared, tagObjectJson(shared, undefined), markers)).toBe(tagObjectJson(shared, markers));
        if (markers) expect(markersJson(markers)).toBe(JSON.stringify(markers));
      });
    }
  }
});
