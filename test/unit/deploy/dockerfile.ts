// A small Dockerfile reader for the deploy tests: instructions with line continuations joined, stages, COPY
// flags and sources, exec-form JSON arguments, and .dockerignore matching. Enough for this repo's Dockerfile,
// strict about what it does not understand (it throws rather than guess).

export interface Instruction {
  line: number; // 1-based line of the instruction's first line
  keyword: string; // upper case
  rest: string;
}

export interface Stage {
  index: number;
  image: string;
  name?: string;
  instructions: Instruction[];
}

const knownKeywords = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG',
  'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);

export function parseDockerfile(text: string): Instruction[] {
  const lines = text.split('\n');
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | undefined;
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comment lines are dropped even inside a continued instruction (Docker's rule).
    if (trimmed.startsWith('#') || (trimmed === '' && !pending)) return;
    const continued = /\\\s*$/.test(raw);
    const piece = continued ? raw.replace(/\\\s*$/, '') : raw;
    pending = pending ? { line: pending.line, text: `${pending.text} ${piece.trim()}` } : { line: i + 1, text: piece.trim() };
    if (!continued) {
      const m = /^(\S+)\s*(.*)$/s.exec(pending.text)!;
      const keyword = m[1]!.toUpperCase();
      if (!knownKeywords.has(keyword)) throw new Error(`line ${pending.line}: unknown instruction ${m[1]}`);
      out.push({ line: pending.line, keyword, rest: m[2]!.trim() });
      pending = undefined;
    }
  });
  if (pending) throw new Error(`line ${pending.line}: continuation at end of file`);
  return out;
}

export function stages(instructions: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.rest);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.rest}`);
      out.push({ index: out.length, image: m[1]!, ...(m[2] ? { name: m[2] } : {}), instructions: [] });
    } else if (ins.keyword !== 'ARG' || out.length > 0) {
      if (out.length === 0) throw new Error(`line ${ins.line}: ${ins.keyword} before FROM`);
      out.at(-1)!.instructions.push(ins);
    }
  }
  return out;
}

export interface Copy {
  line: number;
  from?: string;
  sources: string[];
  dest: string;
}

export function parseCopy(ins: Instruction): Copy {
  const words = ins.rest.startsWith('[') ? (JSON.parse(ins.rest) as string[]) : ins.rest.split(/\s+/);
  const flags = new Map<string, string>();
  while (words[0]?.startsWith('--')) {
    const [k, v = ''] = words.shift()!.slice(2).split('=', 2) as [string, string?];
    flags.set(k, v);
  }
  for (const k of flags.keys()) {
    if (!['from', 'chown', 'chmod', 'link'].includes(k)) throw new Error(`line ${ins.line}: COPY flag --${k} not understood`);
  }
  if (words.length < 2) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
  const from = flags.get('from');
  return { line: ins.line, ...(from ? { from } : {}), sources: words.slice(0, -1), dest: words.at(-1)! };
}

/** ENTRYPOINT/CMD: exec form only (shell form would run under /bin/sh -c and lose signals). */
export function execForm(ins: Instruction): string[] {
  if (!ins.rest.startsWith('[')) throw new Error(`line ${ins.line}: ${ins.keyword} is not in exec (JSON) form`);
  const v = JSON.parse(ins.rest) as unknown;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new Error(`line ${ins.line}: not a string array`);
  return v;
}

/** ENV in the `KEY=VALUE KEY2="VALUE 2"` form (the legacy `ENV KEY VALUE` form is refused). */
export function parseEnv(ins: Instruction): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)=("(?:[^"\\]|\\.)*"|\S*)\s*/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(ins.rest)) !== null && m[0] !== '') {
    out[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    end = re.lastIndex;
  }
  if (end !== ins.rest.length) throw new Error(`line ${ins.line}: cannot read ENV ${ins.rest}`);
  return out;
}

/**
 * Whether .dockerignore keeps `path` (relative, `/`-separated) in the build context. Docker's rules: patterns
 * are matched against the path and each of its parent directories, the last matching pattern wins, `!` re-includes.
 */
export function inContext(path: string, dockerignore: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ negate: l.startsWith('!'), re: globToRegExp(l.replace(/^!/, '').replace(/^\/+|\/+$/g, '')) }));
  const parts = path.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.re.test(p))) included = rule.negate;
  }
  return included;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
