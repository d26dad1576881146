// The error of a mistake on the command line or in a TAILSHIP_* variable (SPEC §1).

import { ErrorCodes, TailshipError } from '../errors.js';

/** A mistake on the command line or in a TAILSHIP_* variable. The CLI prints the message and exits 2. */
export class UsageError extends TailshipError {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The flag or env var at fault. */
    readonly flag?: string,
  ) {
    super(ErrorCodes.CONFIG_FLAG, message);
  }
}
