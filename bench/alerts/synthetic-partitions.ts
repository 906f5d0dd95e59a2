// The per-partition lag both alert benches make up (bench-app.ts's synthetic LagSource and
// core-profile.ts): every partition `seconds` behind, its record lag following the seconds (~100
// records a second) plus a little noise that moves with `phase`, so readings differ between ticks.
import type { PartitionLag } from '../../apps/control-plane/src/lag/lag.service';

export function syntheticPartitions(
  partitions: number,
  committedOffset: number,
  seconds: number,
  phase: number,
): PartitionLag[] {
  return Array.from({ length: partitions }, (_, p) => {
    const behind = Math.round(seconds * 100) + ((p * 13 + phase) % 7);
    return {
      topic: 'bench',
      partition: p,
      committedOffset,
      endOffset: committedOffset + behind,
      recordsBehind: behind,
      secondsBehind: seconds,
    };
  });
}
