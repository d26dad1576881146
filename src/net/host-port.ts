// The one reading of `HOST:PORT` (`--listen`, and the listen flags that follow it): IPv6 in brackets.

export interface HostPort {
  /** Without brackets; '' when the text starts with ':' (the caller decides what that means). */
  host: string;
  port: number;
}

/** `HOST:PORT` or `[IPv6]:PORT` → its parts, or why not: the form is wrong, or the port is above 65535. */
export function parseHostPort(text: string): HostPort | { error: 'form' | 'port-range' } {
  const m = /^(?:\[([^\]\s]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return { error: 'form' };
  const port = Number(m[3]);
  if (port > 65535) return { error: 'port-range' };
  return { host: m[1] ?? m[2] ?? '', port };
}
