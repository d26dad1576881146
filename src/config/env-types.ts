// The shapes the env convention works on (SPEC §2), in their own module so that its parts import them without a cycle.

import type { ConfigProblem, InputSpec, Origin } from './types.js';
import type { ErrorCode } from '../errors.js';

export interface EnvVar {
  name: string;
  value: string;
  origin: Origin;
  /** Set when the value cannot be known offline (a manifest `valueFrom`): why. */
  unresolved?: string;
}

/** Maps a configured (container) path to a host path, without the host root. */
export type PathMapper = (configuredPath: string, main: EnvVar) => { hostPath: string } | { message: string; fix: string };

export interface ConventionOptions {
  /** `--host-root`, put in front of every host path. */
  hostRoot: string;
  /** `TAILSHIP_TAGS`, added to every input. */
  globalTags: Record<string, string>;
  /** For manifest inputs; without it the configured path is the host path (env and env-file inputs). */
  mapPath?: PathMapper;
}

export interface ConventionResult {
  inputs: InputSpec[];
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** One variable after its prefix is stripped: `rest` is `{key}[_{suffix}]`. */
export interface Item {
  v: EnvVar;
  rest: string;
}

/** The variables of one key: the main one (the path) and its suffix variables. */
export interface Group {
  key: string;
  main?: Item;
  suffixes: Map<string, Item>;
}

export type Report = (code: ErrorCode, v: EnvVar, message: string, fix: string) => void;
