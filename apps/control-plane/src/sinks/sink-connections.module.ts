import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { SinkConnectionRepository } from './sink-connection.repository';
import { SinkConnectionsController } from './sink-connections.controller';
import { SinkConnectionsService } from './sink-connections.service';

@Module({
  imports: [AuditModule],
  controllers: [SinkConnectionsController],
  providers: [SinkConnectionRepository, SinkConnectionsService],
  exports: [SinkConnectionsService],
})
export class SinkConnectionsModule {}
