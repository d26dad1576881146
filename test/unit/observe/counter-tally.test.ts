import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { counterTally, tallyByLabel } from '../../../src/observe/counter-tally.js';

function counter(registry: Registry, collect?: (this: Counter<'input'>) => void): Counter<'input'> {
  return new Counter({ name: 'test_total', help: 'h', labelNames: ['input'], registers: [registry], ...(collect ? { collect } : {}) });
}

const value = async (c: Counter<'input'>, input: string): Promise<number | undefined> => (await c.get()).values.find((v) => v.labels.input === input)?.value;

describe('counter tallies', () => {
  it('are added to the counter when it is read, once', async () => {
    const c = counter(new Registry());
    const of = tallyByLabel(c, 'input');
    of('a').n += 3;
    of('b').n++;
    expect(await value(c, 'a')).toBe(3);
    expect(await value(c, 'b')).toBe(1);
    of('a').n += 2;
    expect(await value(c, 'a')).toBe(5); // the 3 were not added twice
  });

  it('show in the registry text', async () => {
    const registry = new Registry();
    tallyByLabel(counter(registry), 'input')('x').n += 7;
    expect(await registry.metrics()).toContain('test_total{input="x"} 7');
  });

  it('give every caller the same series, hooking the counter once, and keep its own collect hook', async () => {
    let collected = 0;
    const c = counter(new Registry(), () => void collected++);
    const first = counterTally(c, { input: 'a' });
    const again = counterTally(c, { input: 'a' }); // a stage made again on a reload
    expect(again).toBe(first);
    tallyByLabel(c, 'input')('a').n += 4;
    expect(await value(c, 'a')).toBe(4);
    expect(collected).toBe(1);
  });
});
