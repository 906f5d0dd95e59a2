// Every query's newest rates, lag and firing alerts in one request: what a page showing hundreds of
// queries live polls once a second (the dashboard's queries page), instead of three requests per
// query. Lag comes from LagService's last poll (no Kafka call per request), rates from the newest
// stored progress events (one bounded statement per page).
import { Controller, Get, Inject, Query as Q } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { lagTotals } from '../lag/lag-totals';
import { LagService } from '../lag/lag.service';
import { clusterName } from '../leadership/cluster-name';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { LiveFiguresRepository } from '../repositories/live-figures.repository';
import { zodParam } from '../validation/zod-param';
import { liveFiguresPageSchema, liveFiguresQuery, type LiveFiguresQuery } from './live-figures.dto';
import { sumRates } from './live-rates';

@ApiTags('queries')
@ApiBearerAuth()
@Controller('api/v1/live')
export class LiveFiguresController {
  private readonly cluster: string;

  constructor(
    private readonly figures: LiveFiguresRepository,
    private readonly lag: LagService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.cluster = clusterName(config);
  }

  @Get('queries')
  @RequireRole('viewer')
  @ApiOperation({
    summary:
      "Every query's newest input and processed rows/s, lag and firing alerts, by id, a page at a time",
  })
  @ApiResponse({ status: 200, description: 'A page of queries', standardSchema: liveFiguresPageSchema })
  @ApiErrors(400, 401, 403)
  async list(@Q(zodParam(liveFiguresQuery)) q: LiveFiguresQuery) {
    const rows = await this.figures.page(this.cluster, q.after ?? null, q.limit);
    const now = Date.now();
    const items = rows.map((r) => {
      const rates = sumRates(r.events);
      const lag = this.lag.recentLag(r.id, now);
      const totals = lag ? lagTotals(lag.partitions) : null;
      return {
        id: r.id,
        runningInstances: r.runningInstances,
        inputRowsPerSecond: rates?.input ?? null,
        processedRowsPerSecond: rates?.processed ?? null,
        progressAt: rates ? new Date(rates.atMs).toISOString() : null,
        lagRecords: totals?.totalRecordsBehind ?? null,
        lagSeconds: totals?.maxSecondsBehind ?? null,
        lagReadAt: lag ? new Date(lag.readAtMs).toISOString() : null,
        firingAlerts: r.firingAlerts,
      };
    });
    return { items, next: rows.length === q.limit ? rows.at(-1)!.id : null };
  }
}
