// A store's error answer: the first bytes of its body (for responseBody), and one line of it (for messages).

/** A store's answer as one line for a message: whitespace folded, cut at `max` characters. */
export function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** The first `limit` bytes of an answer's body as text; a body cut off half-way gives what arrived. */
export async function readPrefix(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      parts.push(chunk);
      n += chunk.length;
      if (n >= limit) break; // leaving the loop destroys the rest of the answer (and that connection)
    }
  } catch {
    // a body cut off half-way still tells us what we have of it
  }
  return new TextDecoder().decode(Buffer.concat(parts).subarray(0, limit));
}
