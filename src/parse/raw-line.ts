/** One line framed from a file, at exact byte offsets. `end` is past the newline. */
export interface RawLine {
  start: number;
  end: number;
  /** The content without `\n` (and without a trailing `\r`), decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  /** The line was longer than the limit and `text` holds only its first bytes. */
  truncated: boolean;
  /** Its bytes were not valid UTF-8: `text` holds U+FFFD in their place (tagged `__invalid_utf8__`). */
  invalidUtf8?: true;
}
