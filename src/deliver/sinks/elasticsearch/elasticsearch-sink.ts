import type { Batch } from '../../../batch/batch.js';
import { ErrorCodes } from '../../../errors.js';
import type { Logger } from '../../../observe/log.js';
import type { DeadLetterSpool } from '../../dead-letter.js';
import { SinkError, type Sink } from '../../sink.js';
import { createStoreClient, statusError } from '../store-client.js';
import { bulkBody, readBulkResponse } from './bulk.js';
import { parseEsUri } from './options.js';

export interface EsSinkContext {
  logger: Logger;
  env: Record<string, string | undefined>;
  deadLetter?: DeadLetterSpool;
}

/**
 * Elasticsearch / OpenSearch `_bulk` (SPEC §10). A batch is acknowledged once every event is indexed (2xx), was
 * there already (409 on `create`: a resend), or is in the dead-letter spool because the store refused it for good
 * (mapping error…), one spool record per event with the store's reason. Items answered 429/5xx are the only ones
 * sent again: the sink remembers per batch which events are settled, and the deliverer's retry of the batch
 * (with its back-off) resends just the rest.
 */
export function createElasticsearchSink(uri: URL, ctx: EsSinkContext): Sink {
  const o = parseEsUri(uri, ctx.env);
  const client = createStoreClient(o.client);
  const path = `/_bulk${o.pipeline ? `?pipeline=${encodeURIComponent(o.pipeline)}` : ''}`;
  const authFix = 'set TAILSHIP_ES_API_KEY (or TAILSHIP_ES_USERNAME / TAILSHIP_ES_PASSWORD) to credentials with the create_doc privilege on the index';
  /** Per batch id: events settled so far (indexed, duplicate or dead-lettered). Dropped once the batch is acknowledged. */
  const settled = new Map<string, Set<number>>();

  async function send(batch: Batch, signal?: AbortSignal): Promise<void> {
    let done = settled.get(batch.id);
    if (!done) settled.set(batch.id, (done = new Set()));
    const pick: number[] = [];
    for (let i = 0; i < batch.events.length; i++) if (!done.has(i)) pick.push(i);
    try {
      if (pick.length > 0) await sendPick(batch, pick, done, signal);
      settled.delete(batch.id);
    } catch (e) {
      // split (too-large) or dead-lettered whole (rejected): this batch id is not sent again
      const kind = (e as SinkError).kind;
      if (kind === 'too-large' || kind === 'rejected') settled.delete(batch.id);
      throw e;
    }
  }

  async function sendPick(batch: Batch, pick: number[], done: Set<number>, signal?: AbortSignal): Promise<void> {
    const { body, docs } = bulkBody(batch, pick, o.index, o.schema);
    const where = `${o.client.display} _bulk (batch ${batch.id}, ${docs.length} documents)`;
    const reply = await client.post(path, body, { 'content-type': 'application/x-ndjson' }, signal);
    if (reply.status < 200 || reply.status >= 300) throw statusError(where, reply, ErrorCodes.SINK_ES_BULK_FAILED, authFix);
    const verdicts = readBulkResponse(reply.body.toString('utf8'), docs.length);
    if (!verdicts) {
      throw new SinkError('retryable', ErrorCodes.SINK_ES_BAD_RESPONSE, `${where}: the answer is not a _bulk response with one item per document`, {
        statusCode: reply.status, responseBody: reply.body.subarray(0, 4096).toString('utf8'),
      });
    }
    let retry = 0;
    let firstRetry = '';
    for (let k = 0; k < docs.length; k++) {
      const v = verdicts[k]!;
      const doc = docs[k]!;
      if (v.kind === 'ok' || v.kind === 'duplicate') done.add(doc.index);
      else if (v.kind === 'retry') {
        retry++;
        firstRetry ||= `${v.status} ${v.reason}`;
      } else {
        await spoolItem(batch, doc.index, doc.id, v.status, v.type, v.reason);
        done.add(doc.index);
      }
    }
    if (retry > 0) {
      throw new SinkError('retryable', ErrorCodes.SINK_ES_ITEMS_RETRY, `${where}: ${retry} of ${docs.length} documents answered 429/5xx (first: ${firstRetry}); only those are sent again`, {
        statusCode: reply.status, });
    }
  }

  /** One refused document: in the spool with the store's reason, as a batch of one event (so it can be replayed). */
  async function spoolItem(batch: Batch, index: number, id: string, status: number, type: string, reason: string): Promise<void> {
    const err = new SinkError('rejected', ErrorCodes.SINK_ES_ITEM_REJECTED, `${o.flavour} refused document ${id}: ${status} ${reason}`, {
      statusCode: status, responseBody: JSON.stringify({ _id: id, status, error: { type, reason } }),
    });
    if (!ctx.deadLetter) throw err; // no spool to keep it in: the deliverer dead-letters the batch instead
    const event = batch.events[index]!;
    const one: Batch = { ...batch, id: `${batch.id}#${index}`, events: [event], rawBytes: Buffer.byteLength(event.raw) };
    await ctx.deadLetter.write(one, err, o.flavour);
  }

  return {
    name: o.flavour,
    send,
    async close() {
      settled.clear();
      await client.close();
    },
  };
}
