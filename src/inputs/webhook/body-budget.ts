/** Request bodies held in memory at once, against one limit: the only counter of them, for every request. */
export interface BodyBudget {
  /** Whether `n` more bytes would go over the limit. */
  exceeds(n: number): boolean;
  /** Holds `declared` bytes for one request; `more` adds what arrives beyond (chunked), `release` gives all back. */
  hold(declared: number): { more(n: number): boolean; release(): void };
}

export function createBodyBudget(limitBytes: number): BodyBudget {
  let inMemory = 0;
  return {
    exceeds: (n) => inMemory + n > limitBytes,
    hold(declared) {
      let reserved = Math.max(declared, 0);
      inMemory += reserved;
      return {
        more(n: number): boolean {
          if (inMemory + n > limitBytes) return false;
          inMemory += n;
          reserved += n;
          return true;
        },
        release(): void {
          inMemory -= reserved;
        },
      };
    },
  };
}
