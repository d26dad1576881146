// A strict reader of RFC 5424 messages and RFC 6587 octet-counted frames, written from the RFCs' ABNF, for
// checking what the syslog sink sends and what rsyslog received.

export interface Syslog5424 {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** SD-ELEMENTs: id → params in order (values unescaped). */
  sd: Array<{ id: string; params: Array<[string, string]> }>;
  msg: string;
}

const PRINTUSASCII = /^[\x21-\x7e]+$/;

/** Parses one SYSLOG-MSG; throws with the reason when it does not follow RFC 5424. */
export function parse5424(text: string): Syslog5424 {
  const m = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text);
  if (!m) throw new Error(`not an RFC 5424 header: ${text.slice(0, 120)}`);
  const pri = Number(m[1]);
  if (pri > 191) throw new Error(`PRI ${pri} > 191`);
  const [hostname, appName, procId, msgId] = [m[4]!, m[5]!, m[6]!, m[7]!];
  for (const [name, v, max] of [['HOSTNAME', hostname, 255], ['APP-NAME', appName, 48], ['PROCID', procId, 128], ['MSGID', msgId, 32]] as const) {
    if (!PRINTUSASCII.test(v) || v.length > max) throw new Error(`${name} "${v}" is not 1*${max} PRINTUSASCII`);
  }
  const ts = m[3]!;
  if (ts !== '-' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/.test(ts)) throw new Error(`TIMESTAMP "${ts}" is not RFC 5424`);
  let i = m[0].length;
  const sd: Syslog5424['sd'] = [];
  if (text[i] === '-') {
    i++;
  } else {
    while (text[i] === '[') {
      i++;
      let id = '';
      while (i < text.length && text[i] !== ' ' && text[i] !== ']') id += text[i++];
      checkSdName(id, 'SD-ID');
      const params: Array<[string, string]> = [];
      while (text[i] === ' ') {
        i++;
        let name = '';
        while (i < text.length && text[i] !== '=') name += text[i++];
        checkSdName(name, 'PARAM-NAME');
        if (text[i] !== '=' || text[i + 1] !== '"') throw new Error(`PARAM ${name}: expected ="`);
        i += 2;
        let value = '';
        for (;;) {
          const c = text[i++];
          if (c === undefined) throw new Error(`PARAM ${name}: unterminated value`);
          if (c === '\\' && (text[i] === '"' || text[i] === '\\' || text[i] === ']')) {
            value += text[i++];
            continue;
          }
          if (c === '"') break;
          if (c === ']') throw new Error(`PARAM ${name}: unescaped ] in value`);
          value += c;
        }
        params.push([name, value]);
      }
      if (text[i] !== ']') throw new Error(`SD-ELEMENT ${id}: expected ]`);
      i++;
      sd.push({ id, params });
    }
    if (sd.length === 0) throw new Error('STRUCTURED-DATA is neither - nor an element');
  }
  let msg = '';
  if (i < text.length) {
    if (text[i] !== ' ') throw new Error(`expected SP before MSG at ${i}`);
    msg = text.slice(i + 1);
  }
  return { pri, version: Number(m[2]), timestamp: ts, hostname, appName, procId, msgId, sd, msg };
}

function checkSdName(name: string, what: string): void {
  if (name.length < 1 || name.length > 32 || !PRINTUSASCII.test(name) || /[= \]"]/.test(name)) throw new Error(`${what} "${name}" is not an SD-NAME`);
}

/** Splits a byte stream of octet-counted frames (RFC 6587 §3.4.1); throws on a broken frame. */
export function splitFrames(bytes: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let i = 0;
  for (;;) {
    const sp = bytes.indexOf(0x20, i);
    if (sp === -1) break;
    const len = bytes.subarray(i, sp).toString('ascii');
    if (!/^[1-9]\d*$/.test(len)) throw new Error(`bad MSG-LEN "${len.slice(0, 20)}" at byte ${i}`);
    const end = sp + 1 + Number(len);
    if (end > bytes.length) break;
    messages.push(bytes.subarray(sp + 1, end).toString('utf8'));
    i = end;
  }
  return { messages, rest: bytes.subarray(i) };
}
