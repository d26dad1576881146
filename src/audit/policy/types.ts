// The audit.k8s.io Policy as loaded (v1 and v1beta1 have the same shape), and the decision of one evaluation.

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type Level = (typeof LEVELS)[number];

export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type Stage = (typeof STAGES)[number];

export interface GroupResources {
  /** "" is the core group. */
  group: string;
  resources: string[];
  resourceNames: string[];
}

export interface PolicyRule {
  level: Level;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  namespaces: string[];
  nonResourceURLs: string[];
  omitStages: Stage[];
  /** undefined: the policy's value stands. */
  omitManagedFields?: boolean;
}

export interface Policy {
  apiVersion: string;
  rules: PolicyRule[];
  omitStages: Stage[];
  omitManagedFields: boolean;
}

/**
 * What a rule matches on: the authorizer attributes of kube-apiserver, read from the event. `hasUser` false when the
 * event has no `user` object (kube's nil user: rules with users/userGroups never match it).
 */
export interface RequestAttributes {
  hasUser: boolean;
  username: string;
  groups: readonly string[];
  verb: string;
  /** The event has `objectRef` (SPEC §6). */
  resourceRequest: boolean;
  namespace: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  /** `requestURI` without its query string. */
  path: string;
}

/** The evaluation of one request: kube's RequestAuditConfigWithLevel, plus the index of the rule that decided. */
export interface Decision {
  /** 0-based index of the first matching rule, -1 when none matched (level None). */
  rule: number;
  level: Level;
  /** Bit set of omitted stages (bit i = STAGES[i]): the policy's joined with the rule's. */
  omitStages: number;
  omitManagedFields: boolean;
}

export function stageBit(stage: string): number {
  switch (stage) {
    case 'RequestReceived':
      return 1;
    case 'ResponseStarted':
      return 2;
    case 'ResponseComplete':
      return 4;
    case 'Panic':
      return 8;
    default:
      return 0;
  }
}

/** 0 None … 3 RequestResponse; -1 for a value that is not a level. */
export function levelRank(level: string): number {
  return (LEVELS as readonly string[]).indexOf(level);
}
