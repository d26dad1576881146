// A missing logstore, created as logtail did (CreateLogStore, `POST /logstores`) unless `?create=` says not to.
import type { Batch } from '../../../batch/batch.js';
import { isAckAuditLogstore } from '../../../convention/audit-logstore.js';
import { ErrorCodes } from '../../../errors.js';
import type { Logger } from '../../../observe/log.js';
import { SinkError } from '../../sink.js';
import type { SlsCall } from './call.js';
import type { SlsCredentials } from './credentials.js';
import { sinkErrorFor, type SlsReply } from './errors.js';
import type { SlsOptions } from './options.js';

/** A creation that failed for a reason an operator must fix is not tried again for this long. */
const CREATE_RETRY_MS = 5 * 60_000;
/** Logtail created logstores with automatic shard splitting up to 32 shards (research §1.2). */
const MAX_SPLIT_SHARD = 32;

/**
 * Creates the missing logstore of a batch with the input's shard, ttl and mode; once per logstore (concurrent
 * sends wait for the same creation). Resolves false when creation is switched off (the caller reports
 * LogStoreNotExist); throws 'blocked' when it is not allowed or failed for a reason an operator must fix.
 */
export type EnsureLogstore = (project: string, batch: Batch, creds: SlsCredentials, signal: AbortSignal | undefined, notExist: SlsReply) => Promise<boolean>;

export function logstoreCreator(mode: SlsOptions['create'], logger: Logger, call: SlsCall): EnsureLogstore {
  const creating = new Map<string, Promise<void>>();
  const createFailed = new Map<string, { at: number; error: SinkError }>();

  const create = async (project: string, batch: Batch, creds: SlsCredentials, signal: AbortSignal | undefined): Promise<void> => {
    const spec = {
      logstoreName: batch.logstore,
      ttl: batch.ttl,
      shardCount: batch.shard,
      autoSplit: true,
      maxSplitShard: Math.max(MAX_SPLIT_SHARD, batch.shard),
      mode: batch.logstoreMode,
    };
    const body = Buffer.from(JSON.stringify(spec), 'utf8');
    const ctx = { ...call.errorContext(project, batch.logstore, creds, 0), operation: 'CreateLogStore' };
    const reply = await call.request(
      { project, method: 'POST', path: '/logstores', body, contentType: 'application/json', rawSize: body.length, ...(signal ? { signal } : {}) },
      creds,
      ctx,
    );
    const key = `${project}/${batch.logstore}`;
    if (reply.status === 200 || reply.code === 'LogstoreAlreadyExist') {
      createFailed.delete(key);
      logger.info(
        { project, logstore: batch.logstore, shards: spec.shardCount, ttl: spec.ttl, mode: spec.mode },
        reply.status === 200 ? 'created the missing SLS logstore' : 'the SLS logstore exists now',
      );
      return;
    }
    const err = sinkErrorFor(reply, ctx);
    if (err.kind === 'retryable') throw err;
    const blocked = createFailedError(project, batch, creds, reply, spec);
    createFailed.set(key, { at: Date.now(), error: blocked });
    throw blocked;
  };

  return async (project, batch, creds, signal, notExist) => {
    if (mode === 'false') return false;
    const product = batch.product || (isAckAuditLogstore(batch.logstore) ? 'k8s-audit' : undefined);
    if (product && mode !== 'always') throw productLogstoreError(project, batch, product, notExist);
    const key = `${project}/${batch.logstore}`;
    const failed = createFailed.get(key);
    if (failed && Date.now() - failed.at < CREATE_RETRY_MS) throw failed.error;
    let pending = creating.get(key);
    if (!pending) {
      pending = create(project, batch, creds, signal).finally(() => creating.delete(key));
      creating.set(key, pending);
    }
    await pending;
    return true;
  };
}

/** A product logstore (k8s-audit…) is not created: SLS provisions its index and dashboards. */
function productLogstoreError(project: string, batch: Batch, product: string, notExist: SlsReply): SinkError {
  const rid = notExist.requestId ? ` (request id ${notExist.requestId})` : '';
  return new SinkError(
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

function createFailedError(project: string, batch: Batch, creds: SlsCredentials, reply: SlsReply, spec: { ttl: number; shardCount: number }): SinkError {
  const rid = reply.requestId ? `, request id ${reply.requestId}` : '';
  return new SinkError(
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
}
