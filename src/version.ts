import { readFileSync } from 'node:fs';

/** tailship's version, from its package.json (next to dist/ in a checkout and in the image). */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/** What tailship sends as its HTTP User-Agent. */
export const USER_AGENT = `tailship/${VERSION}`;
