#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-old-space-size=100 --max-semi-space-size=1 --
// Entry point; the `tailship` command (bin/tailship) runs it under every node flag it is sized for, this shebang
// under those that fit a shebang. Before anything heavy is loaded: when node runs without the heap flags
// (`node dist/cli.js run`), relaunch under them, so that the memory bound holds however tailship is started
// (launch/heap-bound.ts).
import { relaunchWithHeapBound } from './launch/heap-bound.js';

const relaunched = relaunchWithHeapBound();
if (relaunched === null) await import('./cli-main.js');
else await relaunched;
