import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import type { Batch } from '../../../batch/batch.js';
import type { Logger } from '../../../observe/log.js';
import type { Metrics } from '../../../observe/metrics.js';
import { ErrorCodes } from '../../../errors.js';
import { closedError, SinkError, type Sink } from '../../sink.js';
import { SlsClient, type SlsRequest } from './client.js';
import { CredentialsError, createCredentialProvider, type CredentialProvider, type SlsCredentials } from './credentials.js';
import { networkError, sinkErrorFor, type ErrorContext, type SlsReply } from './errors.js';
import { encodeLogGroup, groupMetaSize, toSlsLog, type GroupMeta } from './log-group.js';
import { lz4CompressBlock } from './lz4.js';
import { parseSlsUri, type SlsOptions } from './options.js';
import { splitLogs } from './split.js';
import { isAckAuditLogstore } from '../../../convention/audit-logstore.js';

const deflateAsync = promisify(deflate);

/** A creation that failed for a reason an operator must fix is not tried again for this long. */
const CREATE_RETRY_MS = 5 * 60_000;
/** Logtail created logstores with automatic shard splitting up to 32 shards (research §1.2). */
const MAX_SPLIT_SHARD = 32;
/** `__pack_id__` = 16 hex of a source hash, `-`, hex sequence: room for the longest sequence. */
const PACK_ID_RESERVE = '0123456789ABCDEF-FFFFFFFFFFFFF';

export interface SlsSinkContext {
  logger: Logger;
  metrics?: Metrics;
  env: NodeJS.ProcessEnv;
}

/**
 * The Alibaba Log Service (SLS) store: PutLogs with a protobuf LogGroup, lz4, signature v1 (SPEC §3 `sls://`).
 * Throws (synchronously) an Error naming the bad parameter when the URI is invalid.
 */
export function createSlsSink(url: URL, ctx: SlsSinkContext): Sink {
  return new SlsSink(parseSlsUri(url), ctx);
}

interface Progress {
  /** Requests of the batch acknowledged so far: a retry resumes after them instead of duplicating them. */
  sent: number;
  chunks: number;
  /** First `__pack_id__` sequence number of the batch: a retry sends the same pack ids. */
  seqBase: number;
}

interface PackSource {
  prefix: string;
  next: number;
}

class SlsSink implements Sink {
  readonly name = 'sls';
  readonly #opts: SlsOptions;
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #credentials: CredentialProvider;
  readonly #client: SlsClient;
  /** SLS `Source` (`__source__`): the node IP when the pod is told it (`NODE_IP`), else the batch's host name. */
  readonly #nodeIp: string | undefined;
  readonly #progress = new WeakMap<Batch, Progress>();
  readonly #packs = new Map<string, PackSource>();
  readonly #creating = new Map<string, Promise<void>>();
  readonly #createFailed = new Map<string, { at: number; error: SinkError }>();
  readonly #startedAt = Date.now();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(opts: SlsOptions, ctx: SlsSinkContext) {
    this.#opts = opts;
    this.#logger = ctx.logger;
    this.#metrics = ctx.metrics;
    this.#credentials = createCredentialProvider(ctx.env, ctx.logger);
    this.#client = new SlsClient(opts, ctx.logger);
    this.#nodeIp = ctx.env.NODE_IP?.trim() || undefined;
  }

  async send(batch: Batch, signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw closedError('sls');
    const project = batch.project || this.#opts.project;
    if (!project) {
      throw new SinkError(
        'blocked',
        ErrorCodes.SLS_NO_PROJECT,
        `no SLS project for input ${batch.inputKey} (logstore ${batch.logstore}): set aliyun_logs_${batch.inputKey}_project ` +
          `on the input or add ?project= to the sink URI`,
      );
    }
    let creds: SlsCredentials;
    try {
      creds = await this.#credentials.get();
    } catch (err) {
      if (err instanceof CredentialsError) throw new SinkError('blocked', ErrorCodes.SINK_CREDENTIALS_MISSING, err.message, { cause: err });
      throw err;
    }

    const firstAttempt = !this.#progress.has(batch);
    const logs = batch.events.map(toSlsLog);
    const pack = this.#packSource(project, batch);
    const source = this.#nodeIp ?? batch.source;
    const metaFor = (markers: Record<string, string> | undefined): GroupMeta => ({
      ...(this.#opts.topic ? { topic: this.#opts.topic } : {}),
      source,
      tags: tagsFor(batch.tags, markers),
    });
    const baseSize = groupMetaSize(metaFor(undefined)) + groupMetaSize({ tags: [['__pack_id__', PACK_ID_RESERVE]] });
    const chunks = splitLogs(
      logs,
      { maxBytes: this.#opts.maxRequestBytes, maxLogs: this.#opts.maxRequestLogs },
      (markers) => (markers ? baseSize + groupMetaSize({ tags: Object.entries(markers) }) : baseSize),
      (index, before) => {
        if (!firstAttempt) return;
        this.#metrics?.linesTruncated.inc();
        this.#logger.warn(
          { batch: batch.id, logstore: batch.logstore, path: batch.tags.__path__, index, bytes: before },
          `an event larger than one SLS request (${this.#opts.maxRequestBytes} bytes) was cut and tagged __truncated__=true`,
        );
      },
    );

    let progress = this.#progress.get(batch);
    if (!progress || progress.chunks !== chunks.length) {
      progress = { sent: 0, chunks: chunks.length, seqBase: pack.next };
      pack.next += chunks.length;
      this.#progress.set(batch, progress);
    }
    for (let i = progress.sent; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const meta = metaFor(chunk.markers);
      const packId = `${pack.prefix}-${(progress.seqBase + i).toString(16).toUpperCase()}`;
      const raw = encodeLogGroup(logs, chunk.start, chunk.end, { ...meta, tags: [...meta.tags, ['__pack_id__', packId]] });
      await this.#putLogs(project, batch, raw, chunk.end - chunk.start, creds, signal);
      progress.sent = i + 1;
    }
    this.#progress.delete(batch);
  }

  close(): Promise<void> {
    // Once, whoever calls: a second close() waits for the first (the sink contract).
    this.#closed = true;
    this.#closing ??= this.#client.close();
    return this.#closing;
  }

  async #putLogs(
    project: string,
    batch: Batch,
    raw: Buffer,
    logs: number,
    creds: SlsCredentials,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const compress = this.#opts.compress;
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
    const ctx = this.#errorContext(project, batch.logstore, creds, logs);
    let reply = await this.#request(req, creds, ctx);
    if (reply.status === 200) return;
    if (reply.code === 'LogStoreNotExist' && (await this.#ensureLogstore(project, batch, creds, signal, reply))) {
      reply = await this.#request(req, creds, ctx);
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

  async #request(req: SlsRequest, creds: SlsCredentials, ctx: ErrorContext): Promise<SlsReply> {
    try {
      return await this.#client.request(req, creds);
    } catch (err) {
      throw networkError(err, ctx);
    }
  }

  /**
   * Creates the missing logstore of a batch (CreateLogStore, `POST /logstores`) with the input's shard, ttl and
   * mode, as logtail did; once per logstore (concurrent sends wait for the same creation). Returns false when
   * creation is switched off (the caller reports LogStoreNotExist); throws 'blocked' when it is not allowed or
   * failed for a reason an operator must fix.
   */
  async #ensureLogstore(
    project: string,
    batch: Batch,
    creds: SlsCredentials,
    signal: AbortSignal | undefined,
    notExist: SlsReply,
  ): Promise<boolean> {
    const mode = this.#opts.create;
    if (mode === 'false') return false;
    const product = batch.product || (isAckAuditLogstore(batch.logstore) ? 'k8s-audit' : undefined);
    const rid = notExist.requestId ? ` (request id ${notExist.requestId})` : '';
    if (product && mode !== 'always') {
      throw new SinkError(
        'blocked',
        ErrorCodes.SLS_LOGSTORE_NOT_EXIST,
        `logstore ${batch.logstore} (product ${product}) does not exist in project ${project}${rid}. tailship does not ` +
          `create product logstores, whose index and dashboards SLS provisions: for k8s-audit enable the cluster's API ` +
          `server auditing in the ACK console (it creates the logstore), or create it with its index in the SLS console. ` +
          `The sink parameter ?create=always makes tailship create a plain logstore (without an index, logs written ` +
          `before one exists cannot be searched).`,
        { storeCode: 'LogStoreNotExist', statusCode: notExist.status, responseBody: notExist.body },
      );
    }
    const key = `${project}/${batch.logstore}`;
    const failed = this.#createFailed.get(key);
    if (failed && Date.now() - failed.at < CREATE_RETRY_MS) throw failed.error;
    let creating = this.#creating.get(key);
    if (!creating) {
      creating = this.#createLogstore(project, batch, creds, signal).finally(() => this.#creating.delete(key));
      this.#creating.set(key, creating);
    }
    await creating;
    return true;
  }

  async #createLogstore(project: string, batch: Batch, creds: SlsCredentials, signal: AbortSignal | undefined): Promise<void> {
    const spec = {
      logstoreName: batch.logstore,
      ttl: batch.ttl,
      shardCount: batch.shard,
      autoSplit: true,
      maxSplitShard: Math.max(MAX_SPLIT_SHARD, batch.shard),
      mode: batch.logstoreMode,
    };
    const body = Buffer.from(JSON.stringify(spec), 'utf8');
    const ctx = { ...this.#errorContext(project, batch.logstore, creds, 0), operation: 'CreateLogStore' };
    const reply = await this.#request(
      {
        project,
        method: 'POST',
        path: '/logstores',
        body,
        contentType: 'application/json',
        rawSize: body.length,
        ...(signal ? { signal } : {}),
      },
      creds,
      ctx,
    );
    const key = `${project}/${batch.logstore}`;
    if (reply.status === 200 || reply.code === 'LogstoreAlreadyExist') {
      this.#createFailed.delete(key);
      this.#logger.info(
        { project, logstore: batch.logstore, shards: spec.shardCount, ttl: spec.ttl, mode: spec.mode },
        reply.status === 200 ? 'created the missing SLS logstore' : 'the SLS logstore exists now',
      );
      return;
    }
    const err = sinkErrorFor(reply, ctx);
    if (err.kind === 'retryable') throw err;
    const rid = reply.requestId ? `, request id ${reply.requestId}` : '';
    const blocked = new SinkError(
      'blocked',
      ErrorCodes.SLS_LOGSTORE_CREATE_FAILED,
      `logstore ${batch.logstore} does not exist in project ${project} and tailship could not create it ` +
        `(HTTP ${reply.status}, ${reply.code ?? ''}: ${reply.message ?? ''}${rid}): create it (SLS console, or ` +
        `aliyunlog log create_logstore --project_name=${project} --logstore_name=${batch.logstore} --ttl=${spec.ttl} ` +
        `--shard_count=${spec.shardCount}), or grant the access key (from ${creds.origin}) log:CreateLogStore`,
      {
        statusCode: reply.status,
        ...(reply.code ? { storeCode: reply.code } : {}),
        responseBody: reply.body.slice(0, 2048),
      },
    );
    this.#createFailed.set(key, { at: Date.now(), error: blocked });
    throw blocked;
  }

  #errorContext(project: string, logstore: string, creds: SlsCredentials, logs: number): ErrorContext {
    return { project, logstore, endpoint: this.#opts.endpoint, credentialsOrigin: creds.origin, logs };
  }

  /**
   * Pack ids (`__pack_id__`, research §3.9) power SLS context browsing: one prefix per source file and agent
   * run (hash of project, logstore, input, path, host, pid and start time), a sequence that grows by one per
   * LogGroup.
   */
  #packSource(project: string, batch: Batch): PackSource {
    const key = `${project}\n${batch.logstore}\n${batch.inputKey}\n${batch.tags.__path__ ?? batch.range.stream}`;
    let pack = this.#packs.get(key);
    if (!pack) {
      const prefix = createHash('md5')
        .update(`${key}\n${hostname()}\n${process.pid}\n${this.#startedAt}`)
        .digest('hex')
        .slice(0, 16)
        .toUpperCase();
      pack = { prefix, next: 0 };
      this.#packs.set(key, pack);
    }
    return pack;
  }
}

/** The batch's tags, then the log markers (which win over a batch tag of the same key). */
function tagsFor(tags: Record<string, string>, markers: Record<string, string> | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(tags)) if (!markers || !(k in markers)) out.push([k, v]);
  if (markers) for (const [k, v] of Object.entries(markers)) out.push([k, v]);
  return out;
}
