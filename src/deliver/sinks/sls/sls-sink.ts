import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import type { Batch } from '../../../batch/batch.js';
import { ErrorCodes } from '../../../errors.js';
import type { Logger } from '../../../observe/log.js';
import type { Metrics } from '../../../observe/metrics.js';
import { closedError, SinkError, type Sink } from '../../sink.js';
import { slsCall, type SlsCall } from './call.js';
import { SlsClient, type SlsRequest } from './client.js';
import { logstoreCreator, type EnsureLogstore } from './create-logstore.js';
import { CredentialsError, createCredentialProvider, type CredentialProvider, type SlsCredentials } from './credentials.js';
import { sinkErrorFor } from './errors.js';
import { encodeLogGroup, groupMetaSize, toSlsLog, type GroupMeta, type SlsLog } from './log-group.js';
import { lz4CompressBlock } from './lz4.js';
import { parseSlsUri, type SlsOptions } from './options.js';
import { createPackSources, PACK_ID_RESERVE, packId } from './pack-id.js';
import { splitLogs, type Chunk } from './split.js';

const deflateAsync = promisify(deflate);

export interface SlsSinkContext {
  logger: Logger;
  metrics?: Metrics;
  env: NodeJS.ProcessEnv;
}

interface Progress {
  /** Requests of the batch acknowledged so far: a retry resumes after them instead of duplicating them. */
  sent: number;
  chunks: number;
  /** First `__pack_id__` sequence number of the batch: a retry sends the same pack ids. */
  seqBase: number;
}

/** What PutLogs of one LogGroup needs. */
interface PutParts {
  opts: SlsOptions;
  call: SlsCall;
  ensureLogstore: EnsureLogstore;
}

/**
 * The Alibaba Log Service (SLS) store: PutLogs with a protobuf LogGroup, lz4, signature v1 (SPEC §3 `sls://`).
 * Throws (synchronously) an Error naming the bad parameter when the URI is invalid.
 */
export function createSlsSink(url: URL, ctx: SlsSinkContext): Sink {
  const opts = parseSlsUri(url);
  const packSource = createPackSources(Date.now());
  const credentials = createCredentialProvider(ctx.env, ctx.logger);
  const client = new SlsClient(opts, ctx.logger);
  /** SLS `Source` (`__source__`): the node IP when the pod is told it (`NODE_IP`), else the batch's host name. */
  const nodeIp = ctx.env.NODE_IP?.trim() || undefined;
  const call = slsCall(client, opts.endpoint);
  const parts: PutParts = { opts, call, ensureLogstore: logstoreCreator(opts.create, ctx.logger, call) };
  const progressOf = new WeakMap<Batch, Progress>();
  let closed = false;
  let closing: Promise<void> | undefined;

  return {
    name: 'sls',
    async send(batch: Batch, signal?: AbortSignal): Promise<void> {
      if (closed) throw closedError('sls');
      const project = projectOf(batch, opts);
      const creds = await credentialsFrom(credentials);
      const firstAttempt = !progressOf.has(batch);
      const logs = batch.events.map(toSlsLog);
      const pack = packSource(project, batch);
      const source = nodeIp ?? batch.source;
      const metaFor = (markers: Record<string, string> | undefined): GroupMeta => ({
        ...(opts.topic ? { topic: opts.topic } : {}),
        source,
        tags: tagsFor(batch.tags, markers),
      });
      const chunks = requestChunks(logs, opts, metaFor, (index, before) => {
        if (!firstAttempt) return;
        ctx.metrics?.linesTruncated.inc();
        ctx.logger.warn(
          { batch: batch.id, logstore: batch.logstore, path: batch.tags.__path__, index, bytes: before },
          `an event larger than one SLS request (${opts.maxRequestBytes} bytes) was cut and tagged __truncated__=true`,
        );
      });

      let progress = progressOf.get(batch);
      if (!progress || progress.chunks !== chunks.length) {
        progress = { sent: 0, chunks: chunks.length, seqBase: pack.next };
        pack.next += chunks.length;
        progressOf.set(batch, progress);
      }
      for (let i = progress.sent; i < chunks.length; i++) {
        const chunk = chunks[i]!;
        const meta = metaFor(chunk.markers);
        const raw = encodeLogGroup(logs, chunk.start, chunk.end, { ...meta, tags: [...meta.tags, ['__pack_id__', packId(pack, progress.seqBase + i)]] });
        await putLogs(parts, project, batch, raw, chunk.end - chunk.start, creds, signal);
        progress.sent = i + 1;
      }
      progressOf.delete(batch);
    },
    close(): Promise<void> {
      // Once, whoever calls: a second close() waits for the first (the sink contract).
      closed = true;
      closing ??= client.close();
      return closing;
    },
  };
}

/** The batch's project, else the sink's; none is a 'blocked' error naming both places to set one. */
function projectOf(batch: Batch, opts: SlsOptions): string {
  const project = batch.project || opts.project;
  if (!project) {
    throw new SinkError(
      'blocked',
      ErrorCodes.SLS_NO_PROJECT,
      `no SLS project for input ${batch.inputKey} (logstore ${batch.logstore}): set aliyun_logs_${batch.inputKey}_project ` +
        `on the input or add ?project= to the sink URI`,
    );
  }
  return project;
}

async function credentialsFrom(provider: CredentialProvider): Promise<SlsCredentials> {
  try {
    return await provider.get();
  } catch (err) {
    if (err instanceof CredentialsError) throw new SinkError('blocked', ErrorCodes.SINK_CREDENTIALS_MISSING, err.message, { cause: err });
    throw err;
  }
}

/** The batch's logs as LogGroups within the request limits; `onCut` reports each log cut to fit one. */
function requestChunks(
  logs: SlsLog[],
  opts: SlsOptions,
  metaFor: (markers: Record<string, string> | undefined) => GroupMeta,
  onCut: (index: number, before: number) => void,
): Chunk[] {
  const baseSize = groupMetaSize(metaFor(undefined)) + groupMetaSize({ tags: [['__pack_id__', PACK_ID_RESERVE]] });
  return splitLogs(
    logs,
    { maxBytes: opts.maxRequestBytes, maxLogs: opts.maxRequestLogs },
    (markers) => (markers ? baseSize + groupMetaSize({ tags: Object.entries(markers) }) : baseSize),
    onCut,
  );
}

/** PutLogs of one LogGroup; a missing logstore is created (when allowed) and the request sent once more. */
async function putLogs(
  { opts, call, ensureLogstore }: PutParts,
  project: string,
  batch: Batch,
  raw: Buffer,
  logs: number,
  creds: SlsCredentials,
  signal: AbortSignal | undefined,
): Promise<void> {
  const compress = opts.compress;
  const body = compress === 'lz4' ? lz4CompressBlock(raw) : compress === 'deflate' ? await deflateAsync(raw) : raw;
  const req: SlsRequest = {
    project,
    method: 'POST',
    path: `/logstores/${encodeURIComponent(batch.logstore)}/shards/lb`,
    body,
    contentType: 'application/x-protobuf',
    rawSize: raw.length,
    ...(compress !== 'none' ? { compressType: compress } : {}),
    ...(signal ? { signal } : {}),
  };
  const ctx = call.errorContext(project, batch.logstore, creds, logs);
  let reply = await call.request(req, creds, ctx);
  if (reply.status === 200) return;
  if (reply.code === 'LogStoreNotExist' && (await ensureLogstore(project, batch, creds, signal, reply))) {
    reply = await call.request(req, creds, ctx);
    if (reply.status === 200) return;
    if (reply.code === 'LogStoreNotExist') {
      // SLS needs a moment before a new logstore takes writes.
      throw new SinkError(
        'retryable',
        ErrorCodes.SLS_LOGSTORE_NOT_EXIST,
        `logstore ${batch.logstore} in project ${project} was just created and does not take writes yet`,
        { storeCode: 'LogStoreNotExist', statusCode: reply.status, retryAfterMs: 5000, responseBody: reply.body },
      );
    }
  }
  throw sinkErrorFor(reply, ctx);
}

/** The batch's tags, then the log markers (which win over a batch tag of the same key). */
function tagsFor(tags: Record<string, string>, markers: Record<string, string> | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(tags)) if (!markers || !(k in markers)) out.push([k, v]);
  if (markers) for (const [k, v] of Object.entries(markers)) out.push([k, v]);
  return out;
}
