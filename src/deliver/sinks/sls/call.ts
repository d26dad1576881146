import type { SlsClient, SlsRequest } from './client.js';
import type { SlsCredentials } from './credentials.js';
import { networkError, type ErrorContext, type SlsReply } from './errors.js';

/** One SLS API call whose network failure is already a SinkError, and the context its errors are told in. */
export interface SlsCall {
  request(req: SlsRequest, creds: SlsCredentials, ctx: ErrorContext): Promise<SlsReply>;
  errorContext(project: string, logstore: string, creds: SlsCredentials, logs: number): ErrorContext;
}

export function slsCall(client: SlsClient, endpoint: string): SlsCall {
  return {
    async request(req, creds, ctx) {
      try {
        return await client.request(req, creds);
      } catch (err) {
        throw networkError(err, ctx);
      }
    },
    errorContext: (project, logstore, creds, logs) => ({ project, logstore, endpoint, credentialsOrigin: creds.origin, logs }),
  };
}
