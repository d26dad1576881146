import { ErrorCodes, type ErrorCode } from '../errors.js';
import { SinkError } from './sink.js';

// A failed local write (the `file:` sink, the dead-letter spool) as a SinkError: one rule for both.

/** What to do about each errno, and tailship's code for it. */
const FILE_ERRNOS: Record<string, { code: ErrorCode; hint: string }> = {
  ENOSPC: { code: ErrorCodes.SINK_DISK_FULL, hint: 'the disk is full: free disk space on that filesystem; delivery resumes by itself' },
  EDQUOT: { code: ErrorCodes.SINK_DISK_FULL, hint: 'disk quota exceeded: raise the quota or free space' },
  EACCES: { code: ErrorCodes.SINK_PERMISSION, hint: 'permission denied: let the tailship user write that directory' },
  EPERM: { code: ErrorCodes.SINK_PERMISSION, hint: 'operation not permitted: let the tailship user write that directory' },
  EROFS: { code: ErrorCodes.SINK_PERMISSION, hint: 'read-only filesystem: point the sink at a writable directory' },
  ENOTDIR: { code: ErrorCodes.SINK_IO, hint: 'a path component is a file, not a directory' },
  EISDIR: { code: ErrorCodes.SINK_IO, hint: 'the output path is a directory' },
  EIO: { code: ErrorCodes.SINK_IO, hint: 'I/O error: check the disk' },
};

/**
 * A retryable SinkError for a failed write of `path` that says which file and what to do about it. `code` is
 * the errno's (SINK_DISK_FULL, SINK_PERMISSION, SINK_IO) unless the caller names its own (DEAD_LETTER_WRITE);
 * the errno itself is `storeCode`.
 */
export function localWriteError(path: string, err: unknown, code?: ErrorCode): SinkError {
  const errno = (err as NodeJS.ErrnoException)?.code;
  const known = errno ? FILE_ERRNOS[errno] : undefined;
  const what = errno ?? (err instanceof Error ? err.message : String(err));
  return new SinkError('retryable', code ?? known?.code ?? ErrorCodes.SINK_IO, `cannot write ${path}: ${what}${known ? ` (${known.hint})` : ''}`, {
    ...(errno ? { storeCode: errno } : {}),
    ...(known ? { fix: known.hint } : {}),
    cause: err,
  });
}
