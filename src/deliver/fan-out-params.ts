// The fan-out's own parameters of a sink URI: `?policy=`, `?redact=`, `?name=`, and `?schema=` for the sinks that
// do not read it themselves.
import { ErrorCodes, TailshipError } from '../errors.js';
import type { EventProcessor } from '../process/stage.js';
import { takeSchemaParams, type SchemaChoice } from '../schema/index.js';

/** `?policy=FILE` and `?redact=LIST` of one sink URI (SPEC §10): that sink's own stages, after the global ones. */
export interface SinkStageSpec {
  policy?: string;
  redact?: string;
}
/** Builds a sink's stages (policy, redaction: EventProcessors written elsewhere). Throws for an invalid spec. */
export type MakeSinkStages = (spec: SinkStageSpec, sinkLabel: string) => EventProcessor[];

/** Until the real factory is wired: a sink that asks for stages is a config error, never silently unfiltered. */
export const stagesNotAvailable: MakeSinkStages = (spec, label) => {
  if (spec.policy === undefined && spec.redact === undefined) return [];
  throw new TailshipError(
    ErrorCodes.SINK_STAGES_UNAVAILABLE,
    `sink ${label}: ?policy= / ?redact= per sink is not available in this build; remove them from the sink URI and use --audit-policy / --redact for every sink`,
    'remove ?policy= / ?redact= from the sink URI and use --audit-policy / --redact for every sink',
  );
};

/** Sinks that read `?schema=` themselves (they shape whole requests); for the others the fan-out converts events. */
const SCHEMA_AWARE = /^(https?|elasticsearch\+https?|opensearch\+https?|loki\+https?|otlp\+https?):\/\//i;

/**
 * For a sink that does not read `?schema=` (or `?bodies=`) itself: the schema the fan-out renders its events in
 * (undefined for raw), and the URI without those parameters.
 */
export function takeConversion(rest: string): { convert?: SchemaChoice; sinkUri: string } {
  if (SCHEMA_AWARE.test(rest) || !/[?&](schema|bodies)=/.test(rest)) return { sinkUri: rest };
  const u = new URL(rest.startsWith('file:') || rest.startsWith('stdout:') ? rest.replace(/^(file|stdout):/, 'x-$1://h/') : rest);
  const choice = takeSchemaParams(u);
  const sinkUri = rest.split('?')[0]! + (u.search ? u.search : '');
  return { convert: choice.schema === 'raw' ? undefined : choice, sinkUri };
}

/**
 * Takes the fan-out's own parameters out of a sink URI: `?policy=`, `?redact=` (the sink's stages) and `?name=`
 * (its metrics label). The rest of the URI is the sink's.
 */
export function takeFanOutParams(uri: string): { rest: string; spec: SinkStageSpec; name?: string } {
  const q = uri.indexOf('?');
  if (q < 0) return { rest: uri, spec: {} };
  const spec: SinkStageSpec = {};
  let name: string | undefined;
  const keep: string[] = [];
  for (const pair of uri.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    if (key === 'policy') spec.policy = value;
    else if (key === 'redact') spec.redact = value;
    else if (key === 'name') {
      if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(value)) {
        throw new TailshipError(ErrorCodes.SINK_URI_INVALID, `sink ?name=${value} is not a valid label: use letters, digits, ".", "_" or "-" (at most 64)`, 'use letters, digits, ".", "_" or "-" (at most 64)');
      }
      name = value;
    } else if (pair !== '') keep.push(pair);
  }
  return { rest: uri.slice(0, q) + (keep.length > 0 ? `?${keep.join('&')}` : ''), spec, name };
}
