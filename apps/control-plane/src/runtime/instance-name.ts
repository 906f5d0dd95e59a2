// A query's instances are ordinals 0…n−1 named `<query>-<ordinal>`, as a StatefulSet names its pods:
// the reconciler makes the names, the Kubernetes driver maps pods back to them, and the live
// autoscaling bench tells which instances a scale-out added by them.

export const instanceName = (query: string, ordinal: number) => `${query}-${ordinal}`;

/** The query name and ordinal an `instanceName` was made of; null when `name` is not one. */
export function parseInstanceName(name: string): { query: string; ordinal: number } | null {
  const m = /^(.+)-(\d+)$/.exec(name);
  return m?.[1] && m[2] ? { query: m[1], ordinal: Number(m[2]) } : null;
}
