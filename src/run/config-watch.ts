import { watch } from 'chokidar';

/**
 * Follows the config sources of SPEC §11 — the `--manifests` directory (its top level, as kubelet reads it) and
 * each `--env-file` — and calls `onChange` once per burst of changes. chokidar, not fs.watch: these are a few
 * small files, and it sees editors' atomic-rename saves and kubelet's manifest swaps that fs.watch misses.
 */
export function watchConfig(paths: string[], onChange: (file: string) => void, onError: (err: Error) => void): { close(): Promise<void> } {
  if (paths.length === 0) return { close: async () => undefined };
  const w = watch(paths, { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 } });
  let timer: NodeJS.Timeout | undefined;
  w.on('all', (_event, file) => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange(file), 100);
  });
  w.on('error', (e) => onError(e as Error));
  return {
    close: async () => {
      clearTimeout(timer);
      await w.close();
    },
  };
}
