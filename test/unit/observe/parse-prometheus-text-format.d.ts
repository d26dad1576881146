// The package ships no types; this is the shape its README documents (prom2json-compatible).
declare module 'parse-prometheus-text-format' {
  export interface ParsedMetricFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; quantiles?: Record<string, string>; count?: string; sum?: string }>;
  }
  export default function parsePrometheusTextFormat(text: string): ParsedMetricFamily[];
}
