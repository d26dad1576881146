import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

/**
 * The yaml library, loaded on first use: it adds ~9 MB of RSS to a process, and most runs read no YAML at all
 * (static pod manifests, an audit policy and `webhook-kubeconfig` do). Its `node` export is CommonJS, so this
 * is the same module instance an `import` would give.
 */
let loaded: typeof Yaml | undefined;

export function yaml(): typeof Yaml {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
