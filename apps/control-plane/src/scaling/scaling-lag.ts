// LagService as the loop reads it: QueriesModule keeps its instance (and its gauge poller) to
// itself, so the loop has its own copy without a second poller; calling lagOf on every tick
// samples the offset→time tables the seconds-behind estimate needs.
import { Injectable } from '@nestjs/common';
import { LagService } from '../lag/lag.service';

@Injectable()
export class ScalingLagReader extends LagService {
  override onApplicationBootstrap(): void {
    // no background poll: the scaling loop calls lagOf itself
  }
}
