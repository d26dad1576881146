import { createHash } from 'node:crypto';

/**
 * The stable id of an audit event (SPEC §10 `__event_id__`): hex SHA-256 of `{cluster_id}/{auditID}/{stage}`,
 * `cluster_id` empty when unknown; for a line without auditID, of `{stream}/{offset}`. The same across retries,
 * restarts and agents, so stores that dedupe (Elasticsearch `_id`, ClickHouse ReplacingMergeTree) keep one copy.
 */
export function auditEventId(clusterId: string | undefined, auditID: string, stage: string | undefined): string {
  return sha256Hex(`${clusterId ?? ''}/${auditID}/${stage ?? ''}`);
}

/** `__event_id__` of a line that has no auditID: its stream and byte offset. */
export function lineEventId(stream: string, offset: number): string {
  return sha256Hex(`${stream}/${offset}`);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
