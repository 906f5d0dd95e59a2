// The Redis database index of every suite, benchmark and tool that needs one of its own (its own
// BullMQ queues and leader keys): one list, so no two of them empty each other's index. Each
// empties its index when it starts; two sharing one would wipe each other's queues when run at
// the same time (npm test runs one at a time, a developer may not). Redis has 16 (0–15); 0 is the
// shared development stack's (REDIS_URL as configured, no index), never given out here.
// redis-indexes.spec.ts fails on a duplicate, an index out of range or 0, and on an index written
// as a number anywhere else in the tree.
export const REDIS_INDEXES = {
  /** e2e/dashboard.e2e.ts: the dashboard's control plane. */
  e2eDashboard: 1,
  /** scripts/schemathesis: the fuzzed control plane (the npm test step). */
  schemathesis: 2,
  /** bench/upgrade. */
  benchUpgrade: 3,
  /** bench/dashboard. */
  benchDashboard: 4,
  /** apps/control-plane/test/kubernetes-upgrade.int.ts. */
  kubernetesUpgrade: 5,
  /** apps/control-plane/test/modules-and-tables.int.ts. */
  modulesAndTables: 6,
  /** apps/control-plane/test/upgrade-gate.int.ts. */
  upgradeGate: 7,
  /** apps/control-plane/test/upgrade-rollback.int.ts. */
  upgradeRollback: 8,
  /** bench/recovery. */
  benchRecovery: 9,
  /** apps/control-plane/test/actionable-conditions.int.ts. */
  actionableConditions: 10,
  /** apps/control-plane/test/kubernetes-runtime.int.ts. */
  kubernetesRuntime: 11,
  /** apps/control-plane/test/leadership-lease.int.ts. */
  leadershipLease: 12,
  /** apps/control-plane/test/upgrade.int.ts. */
  upgrade: 13,
  /** apps/control-plane/test/upgrade-resume.int.ts. */
  upgradeResume: 14,
  /** apps/control-plane/test/cluster-ownership.int.ts. */
  clusterOwnership: 15,
} as const satisfies Record<string, number>;

/** Redis's default number of databases: indexes 0 to 15. */
export const REDIS_DATABASES = 16;

/** What is wrong with a table of indexes: a duplicate (naming both users), out of range, or 0. */
export function redisIndexProblems(table: Readonly<Record<string, number>>): string[] {
  const problems: string[] = [];
  const owner = new Map<number, string>();
  for (const [name, index] of Object.entries(table)) {
    if (!Number.isInteger(index) || index < 1 || index >= REDIS_DATABASES)
      problems.push(`${name}: index ${index} is not in 1..${REDIS_DATABASES - 1} (0 is the shared stack's)`);
    const first = owner.get(index);
    if (first !== undefined) problems.push(`${name}: index ${index} is already ${first}'s`);
    else owner.set(index, name);
  }
  return problems;
}
