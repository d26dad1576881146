#!/bin/sh
# Installs the real servers the store tests start themselves (test/helpers/clickhouse-server.ts,
# test/helpers/rsyslog-server.ts): Debian's ClickHouse (18.16 on Debian 12) and rsyslog with its GnuTLS driver.
# Neither is started as a system service: the tests run them as their own child processes on 127.0.0.1.
# openssl makes the TLS certificates of the rsyslog and webhook TLS tests; promtool (Debian's prometheus) checks /metrics and the alert rules. Run as root (CI: .ci/run calls it).
set -eu
export DEBIAN_FRONTEND=noninteractive
need=""
command -v clickhouse-server >/dev/null 2>&1 || need="$need clickhouse-server clickhouse-client"
command -v rsyslogd >/dev/null 2>&1 || need="$need rsyslog"
ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || need="$need rsyslog-gnutls"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
command -v promtool >/dev/null 2>&1 || need="$need prometheus"
if [ -n "$need" ]; then
  apt-get update
  # --no-install-recommends: no extra daemons; policy-rc.d in CI containers keeps the services from starting.
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $need
fi
echo "install-servers: clickhouse-server $(clickhouse-client --version 2>/dev/null | sed 's/.*version //'), $(rsyslogd -v 2>/dev/null | head -1)"
