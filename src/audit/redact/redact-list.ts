import { readFileSync } from 'node:fs';
import { ErrorCodes, TailshipError } from '../../errors.js';

/** What `--redact LIST` asks for (SPEC §6). */
export interface RedactList {
  secrets: boolean;
  tokens: boolean;
}

/** `secrets`, `tokens`, `secrets,tokens`, `all` or `off` (also empty). Throws TailshipError on anything else. */
export function parseRedactList(text: string | undefined): RedactList {
  const out: RedactList = { secrets: false, tokens: false };
  const items = (text ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const item of items) {
    if (item === 'secrets') out.secrets = true;
    else if (item === 'tokens') out.tokens = true;
    else if (item === 'all') out.secrets = out.tokens = true;
    else if (item === 'off' || item === 'none') continue;
    else {
      throw new TailshipError(
        ErrorCodes.REDACT_LIST_INVALID,
        `redact list ${JSON.stringify(text)}: unknown item ${JSON.stringify(item)}`,
        'use a comma list of secrets and tokens, or all, or off (e.g. --redact secrets,tokens)',
      );
    }
  }
  if (items.includes('off') && (out.secrets || out.tokens)) {
    throw new TailshipError(ErrorCodes.REDACT_LIST_INVALID, `redact list ${JSON.stringify(text)} names off together with something to redact`, 'give off alone, or the list without off');
  }
  return out;
}

export function redactsAnything(list: RedactList): boolean {
  return list.secrets || list.tokens;
}

/** The HMAC key: the bytes of FILE less one trailing newline. Throws TailshipError when unreadable or empty. */
export function loadRedactKey(file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new TailshipError(
      ErrorCodes.REDACT_KEY_UNREADABLE,
      `--redact-key ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'give a readable file holding the HMAC key (e.g. head -c 32 /dev/urandom | base64 > key)',
      { cause: err },
    );
  }
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) bytes = bytes.subarray(0, bytes.length - 1);
  if (bytes.length === 0) {
    throw new TailshipError(ErrorCodes.REDACT_KEY_UNREADABLE, `--redact-key ${file}: the file is empty`, 'put a key of at least 16 random bytes in it');
  }
  return bytes;
}
