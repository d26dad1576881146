import type { InputSpec } from '../config/types.js';
import type { Lane } from './file-table.js';

/** SPEC §7, per input: is its file there and readable, since when not, and when it last grew. */
export interface InputHealth {
  input: string;
  up: boolean;
  /** Why it is down (missing, unreadable, no match…). */
  reason?: string;
  /** When it went down (ms), while it is. */
  downSince?: number;
  /** When its file last grew (ms; the agent's start until then). */
  grewAt: number;
}

/** What one discovery pass saw of a glob input's directory. */
export type GlobSeen = 'unlistable' | 'no-match' | 'ok';

/**
 * Keeps each input's health across passes: `observe` after every discovery pass, `grew` when a lane read bytes.
 * An input is up when one of its lanes holds an open file.
 */
export class HealthBook {
  readonly #book = new Map<string, InputHealth>();
  readonly #start: number;

  constructor(now: number) {
    this.#start = now;
  }

  observe(inputs: InputSpec[], lanes: Lane[], globs: Map<string, GlobSeen>, now: number): void {
    const keys = new Set(inputs.map((i) => i.key));
    for (const k of [...this.#book.keys()]) if (!keys.has(k)) this.#book.delete(k);
    for (const input of inputs) {
      const h = this.#of(input.key);
      const mine = lanes.filter((l) => l.input === input);
      const reason = downReason(input, mine, globs.get(input.key));
      h.up = reason === undefined;
      h.reason = reason;
      if (h.up) h.downSince = undefined;
      else h.downSince ??= now;
    }
  }

  grew(input: string, now: number): void {
    this.#of(input).grewAt = now;
  }

  all(): InputHealth[] {
    return [...this.#book.values()];
  }

  /** The reason /readyz gives while an input has been down for longer than `graceMs`, else undefined. */
  notReady(now: number, graceMs: number): string | undefined {
    const down = this.all().filter((h) => !h.up && h.downSince !== undefined && now - h.downSince >= graceMs);
    if (down.length === 0) return undefined;
    return down.map((h) => `input ${h.input}: ${h.reason} for ${Math.round((now - h.downSince!) / 1000)} s`).join('; ');
  }

  #of(input: string): InputHealth {
    let h = this.#book.get(input);
    if (!h) this.#book.set(input, (h = { input, up: false, grewAt: this.#start }));
    return h;
  }
}

function downReason(input: InputSpec, lanes: Lane[], glob: GlobSeen | undefined): string | undefined {
  if (glob === 'unlistable') return `cannot list the directory of ${input.hostPath} (missing, or no read/search permission)`;
  if (glob === 'no-match' && lanes.length === 0) return `no file matches ${input.hostPath}`;
  if (lanes.some((l) => l.active)) return undefined;
  const l = lanes[0];
  if (!l) return `${input.hostPath} does not exist`;
  if (l.unreadSize !== undefined || l.warned === 'open') return `${l.activePath} cannot be opened (check permissions)`;
  if (l.warned?.startsWith('error:')) return `${l.activePath} cannot be read (${l.warned.slice(6)})`;
  return l.missingCode && l.missingCode !== 'ENOENT' ? `${l.activePath} cannot be seen (${l.missingCode})` : `${l.activePath} does not exist`;
}
