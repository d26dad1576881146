// Logtail's hard-coded ACK audit rule (research logtail-sls.md §1.2): a logstore named `audit-` followed by a
// 33-character cluster id holds API-server audit logs. One home for it: the config (JSON parsing), the SLS sink
// (a product logstore it does not create) and `tailship config` (why an input is JSON) all ask here.

export const AUDIT_LOGSTORE_PREFIX = 'audit-';
/** An ACK cluster id is `c` + 32 hex characters. */
export const ACK_CLUSTER_ID_LENGTH = 33;

/** True for an ACK audit logstore name: `audit-{cluster_id}`. */
export function isAckAuditLogstore(name: string): boolean {
  return name.startsWith(AUDIT_LOGSTORE_PREFIX) && name.length === AUDIT_LOGSTORE_PREFIX.length + ACK_CLUSTER_ID_LENGTH;
}

/** The cluster id of an ACK audit logstore (or input key) `audit-{cluster_id}`, else undefined. */
export function ackClusterId(name: string): string | undefined {
  return isAckAuditLogstore(name) ? name.slice(AUDIT_LOGSTORE_PREFIX.length) : undefined;
}
