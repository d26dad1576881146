// The one list of TLS errors that mean "the peer's certificate is not trusted" (http, clickhouse, syslog sinks):
// an operator must give the CA (?ca=FILE) or fix the certificate, so the sink reports 'blocked', not retryable.

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True for an error code (Node's `err.code`, or its cause's) that says the certificate is not trusted. */
export function isTlsTrustError(code: string | undefined): boolean {
  return code !== undefined && TLS_TRUST_CODES.has(code);
}
