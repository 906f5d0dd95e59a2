import { Module } from '@nestjs/common';
import { LagService } from './lag.service';

/** Lag of every running query: read by the API, the reconciler (Stalled) and the scaling loop. */
@Module({ providers: [LagService], exports: [LagService] })
export class LagModule {}
