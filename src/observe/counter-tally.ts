import type { Counter, LabelValues } from 'prom-client';

/** One series' count since the counter was last read. */
export interface Tally {
  n: number;
}

interface Series<L extends string> extends Tally {
  labels: LabelValues<L>;
}

const seriesOf = new WeakMap<object, Map<string, Series<string>>>();

/**
 * The tally of one series of `counter`: a plain number added to the counter when it is read (its collect hook,
 * so every reader of the registry or of `counter.get()` sees it). `counter.inc(labels)`, or a child's inc,
 * hashes the labels into a string on every call, which a per-line or per-event count pays thousands of times a
 * second. The same labels give the same tally to every caller (a stage made again on a reload takes it over);
 * the counter is hooked once, and a collect hook it had still runs after the tallies are added.
 */
export function counterTally<L extends string>(counter: Counter<L>, labels: LabelValues<L>): Tally {
  let series = seriesOf.get(counter) as Map<string, Series<L>> | undefined;
  if (!series) {
    const all = (series = new Map<string, Series<L>>());
    seriesOf.set(counter, all as Map<string, Series<string>>);
    const hooked = counter as unknown as { collect?: (this: Counter<L>) => unknown };
    const before = hooked.collect;
    hooked.collect = function (this: Counter<L>) {
      for (const s of all.values()) {
        if (s.n === 0) continue;
        this.inc(s.labels, s.n);
        s.n = 0;
      }
      return before?.call(this);
    };
  }
  const key = JSON.stringify(labels);
  let s = series.get(key);
  if (!s) series.set(key, (s = { labels, n: 0 }));
  return s;
}

/** The tallies of a one-label counter, looked up by that label's value (a map hit per call, no hashing). */
export function tallyByLabel<L extends string>(counter: Counter<L>, label: L): (value: string) => Tally {
  const tallies = new Map<string, Tally>();
  return (value) => {
    let t = tallies.get(value);
    if (!t) tallies.set(value, (t = counterTally(counter, { [label]: value } as LabelValues<L>)));
    return t;
  };
}
