// Store answers in messages: one line, bounded (the whole answer is kept in responseBody).

/** A store's answer as one line for a message: whitespace folded, cut at `max` characters. */
export function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
