import { Counter, Gauge } from 'prom-client';
import type { CreateSinkContext } from './create-sink.js';

export type SinkMetrics = ReturnType<typeof sinkMetrics>;

/** Per-sink metrics, registered once per registry (tests create several fan-outs on one). */
export function sinkMetrics(ctx: CreateSinkContext) {
  const registry = ctx.metrics.registry;
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const registers = [registry];
  return {
    pending: get('tailship_sink_pending_batches', () => new Gauge({ name: 'tailship_sink_pending_batches', help: 'Batches given to the sink and not yet acknowledged or dead-lettered by it.', labelNames: ['sink'], registers })) as Gauge<'sink'>,
    up: get('tailship_sink_up', () => new Gauge({ name: 'tailship_sink_up', help: '1 while the sink acknowledges batches, 0 while its sends fail (it holds reading once the in-flight budget is used).', labelNames: ['sink'], registers })) as Gauge<'sink'>,
    events: get('tailship_sink_events_total', () => new Counter({ name: 'tailship_sink_events_total', help: 'Events settled (acknowledged or dead-lettered) per sink, after that sink\'s own stages.', labelNames: ['sink'], registers })) as Counter<'sink'>,
  };
}
