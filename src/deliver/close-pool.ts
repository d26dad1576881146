import type { Pool } from 'undici';

/** How long requests on the wire get to finish when a pooled sink closes. */
export const CLOSE_GRACE_MS = 2000;

/**
 * Closes an undici Pool: requests on the wire get CLOSE_GRACE_MS to finish, then the pool is destroyed. A batch
 * cut off here is not acknowledged and is sent again later (the http and clickhouse sinks).
 */
export async function closePoolGracefully(pool: Pool, graceMs = CLOSE_GRACE_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const outcome = await Promise.race([pool.close().then(() => 'closed' as const), graceOver]);
  clearTimeout(timer);
  if (outcome === 'late') await pool.destroy();
}
