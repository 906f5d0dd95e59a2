import { Module } from '@nestjs/common';
import { LagModule } from '../lag/lag.module';
import { SinkConnectionsModule } from '../sinks/sink-connections.module';
import { ReconcilerService } from './reconciler.service';

@Module({
  imports: [LagModule, SinkConnectionsModule],
  providers: [ReconcilerService],
  exports: [ReconcilerService],
})
export class ReconcileModule {}
