// Where the evaluator gets per-partition lag. Production reads it through LagService (kafkajs
// admin: committed vs log-end offsets, seconds from the offset→time tables); bench:alerts
// replaces it with a synthetic source to measure the evaluator alone at 1,000 queries.
import { Injectable } from '@nestjs/common';
import type { PartitionLag } from '../lag/lag.service';
import { LagService } from '../lag/lag.service';

export abstract class LagSource {
  /** Lag of each query id; a query whose lag could not be read is left out of the map. */
  abstract lagOf(queryIds: readonly string[]): Promise<Map<string, PartitionLag[]>>;
}

const CONCURRENCY = 8;

@Injectable()
export class KafkaLagSource extends LagSource {
  constructor(private readonly lag: LagService) {
    super();
  }

  async lagOf(queryIds: readonly string[]): Promise<Map<string, PartitionLag[]>> {
    const out = new Map<string, PartitionLag[]>();
    let next = 0;
    const worker = async () => {
      while (next < queryIds.length) {
        const id = queryIds[next++]!;
        try {
          out.set(id, await this.lag.lagOf(id));
        } catch {
          // Kafka away for this query: its lag rules keep their state (no evidence either way).
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queryIds.length) }, worker));
    return out;
  }
}
