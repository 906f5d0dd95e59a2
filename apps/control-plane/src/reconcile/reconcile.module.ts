import { Module } from '@nestjs/common';
import { ReconcilerService } from './reconciler.service';

@Module({ providers: [ReconcilerService], exports: [ReconcilerService] })
export class ReconcileModule {}
