// Where the evaluator gets per-partition lag. Production reuses what LagService's poll (kafkajs
// admin: committed vs log-end offsets, seconds from the offset→time tables) read at most three
// polls ago, and asks Kafka itself only for a query the poll has not reached yet (just started):
// asking Kafka again for every query on every evaluation doubled the admin calls for nothing.
// bench:alerts replaces it with a synthetic source to measure the evaluator alone at 1,000 queries.
import { Injectable } from '@nestjs/common';
import type { LagReading } from '../lag/lag.service';
import { LagService } from '../lag/lag.service';

export abstract class LagSource {
  /** Lag of each query id; a query whose lag could not be read is left out of the map. */
  abstract lagOf(queryIds: readonly string[]): Promise<Map<string, LagReading>>;
}

const CONCURRENCY = 8;

@Injectable()
export class KafkaLagSource extends LagSource {
  constructor(private readonly lag: LagService) {
    super();
  }

  async lagOf(queryIds: readonly string[]): Promise<Map<string, LagReading>> {
    const out = new Map<string, LagReading>();
    const missing: string[] = [];
    for (const id of queryIds) {
      const recent = this.lag.recentLag(id);
      if (recent) out.set(id, recent);
      else missing.push(id);
    }
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        const id = missing[next++]!;
        try {
          const partitions = await this.lag.lagOf(id);
          out.set(id, { partitions, readAtMs: Date.now() });
        } catch {
          // Kafka away for this query: its lag rules keep their state (no evidence either way).
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, missing.length) }, worker));
    return out;
  }
}
