# tailship image: build with dev dependencies, run with production dependencies only.
#
#   docker build -t tailship:0.1.0 .
#   docker run --rm tailship:0.1.0 --version
#
# Base pinned to an exact release of Node 24, the active LTS (Node 20 is end of life since 2026-04-30; the code
# still runs on Node >= 20.18.1, package.json engines). Debian slim rather than Alpine so that Node is the
# official glibc build. Pin by digest too when you publish (name:tag@sha256:...).

FROM node:24.11.1-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so that a source-only change reuses this layer. --ignore-scripts: `prepare` would run tsc
# before the sources are copied; the build is run explicitly below.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM node:24.11.1-bookworm-slim AS runtime
# The V8 limits the `tailship` command carries in its shebang (src/cli.ts): without them V8 sizes its heap from
# the node's RAM and lets garbage grow (a 200 MB catch-up peaked near 230 MB RSS; with them near 110 MB).
# MALLOC_ARENA_MAX=2: glibc keeps one arena per thread otherwise (zlib and libuv's pool), ~6 MB more at the peak.
# MALLOC_MMAP_THRESHOLD_=131072: glibc would raise it after each free and keep large blocks in fragmented arenas
# (~5 MB more). Both as src/launch/heap-bound.ts sets them.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=100 --max-semi-space-size=1" \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    TAILSHIP_STATE_DIR=/var/lib/tailship \
    TAILSHIP_LISTEN=[::]:2020
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; --ignore-scripts because `prepare` needs tsc, a dev dependency, and no runtime
# dependency has an install script.
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force \
 && printf '#!/bin/sh\nexec node -- /app/dist/cli.js "$@"\n' > /usr/local/bin/tailship \
 && chmod 0755 /usr/local/bin/tailship
# `tailship` on PATH (npm ci does not link the package's own bin), so `kubectl exec ... -- tailship config` works.
COPY --from=build /app/dist ./dist
# uid 0, consistent with daemonset.yaml: kube-apiserver writes its audit log root-owned 0600 in a 0700
# directory, readable through owner match only. The DaemonSet drops every capability, so this root has none
# (see the securityContext comment there); outside Kubernetes, run with --cap-drop ALL for the same effect.
USER 0:0
# --listen (TAILSHIP_LISTEN) port for /healthz, /readyz, /metrics. The CLI default is 127.0.0.1:2020, which a
# container cannot be reached on: the image listens on every address, IPv6 and IPv4 ([::], dual-stack; IPv4
# only where the node has no IPv6). No HEALTHCHECK: Kubernetes ignores it in
# favour of the DaemonSet's probes, and it would fail whenever --listen is moved or `off`.
EXPOSE 2020
# Node as PID 1 is fine here: tailship handles SIGTERM/SIGINT itself and starts no child processes to reap.
# --single-threaded-gc --no-sparkplug: V8's GC and baseline compiler on the main thread, ~1 point of a core less
# at a steady 10 MB/s (src/launch/heap-bound.ts, GC_FLAGS); node takes them only here, not in NODE_OPTIONS. The
# heap flags stay in NODE_OPTIONS above, where a DaemonSet can change them with its memory limit (node flags here
# would win over NODE_OPTIONS).
# `--` ends Node's own options: Node 20 would otherwise take a `--env-file` given to tailship as its own.
ENTRYPOINT ["node", "--single-threaded-gc", "--no-sparkplug", "--", "/app/dist/cli.js"]
CMD ["run"]
