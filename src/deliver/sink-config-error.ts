import { ErrorCodes, TailshipError } from '../errors.js';

// A sink URI that cannot be used: thrown while the sink is built (the CLI exits 2 with it).

/** The URI is not one of the accepted forms, or not a URL. */
export function sinkUriError(message: string): TailshipError {
  return new TailshipError(ErrorCodes.CONFIG_SINK_URI, message);
}

/** A parameter of the URI (`?gzip=`, `?compress=`, `?ca=`…) or a sink env var is invalid. */
export function sinkOptionError(message: string): TailshipError {
  return new TailshipError(ErrorCodes.CONFIG_SINK_OPTION, message);
}
