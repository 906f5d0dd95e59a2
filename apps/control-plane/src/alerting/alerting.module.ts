// Built-in alerting (issue 15): rules in PostgreSQL, the leader's evaluation loop, Alertmanager-
// style grouping and silences, signed webhook/Slack receivers delivered through BullMQ.
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { LagModule } from '../lag/lag.module';
import { AlertEvaluationRepository } from './alert-evaluation.repository';
import { AlertEvaluator } from './alert-evaluator.service';
import { AlertRulesController } from './alert-rules.controller';
import { AlertingApi } from './alerting-api.service';
import {
  AlertRepository,
  AlertRuleRepository,
  ReceiverRepository,
  SilenceRepository,
} from './alerting.repository';
import { AlertsController } from './alerts.controller';
import { KafkaLagSource, LagSource } from './lag-source';
import { NotificationRouter } from './notification-router.service';
import { DeliveryRepository, RoutingRepository } from './notification.repository';
import { ALERT_DELIVERY_QUEUE, DeliveryQueue } from './receivers/delivery-queue.service';
import { DeliveryProcessor } from './receivers/delivery.processor';
import { ReceiversController } from './receivers.controller';
import { SilencesController } from './silences.controller';

@Module({
  imports: [BullModule.registerQueue({ name: ALERT_DELIVERY_QUEUE }), AuditModule, LagModule],
  controllers: [AlertRulesController, AlertsController, SilencesController, ReceiversController],
  providers: [
    AlertingApi,
    AlertRuleRepository,
    AlertRepository,
    SilenceRepository,
    ReceiverRepository,
    AlertEvaluationRepository,
    AlertEvaluator,
    NotificationRouter,
    RoutingRepository,
    DeliveryRepository,
    DeliveryQueue,
    DeliveryProcessor,
    { provide: LagSource, useClass: KafkaLagSource },
  ],
  exports: [AlertEvaluator, LagSource],
})
export class AlertingModule {}
