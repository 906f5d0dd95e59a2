import { Module } from '@nestjs/common';
import { SinkConnectionsModule } from '../sinks/sink-connections.module';
import { ReconcilerService } from './reconciler.service';

@Module({ imports: [SinkConnectionsModule], providers: [ReconcilerService], exports: [ReconcilerService] })
export class ReconcileModule {}
