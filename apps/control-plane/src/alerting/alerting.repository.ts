// Alert rules, alerts, silences and receivers (with their deliveries) as the alerting API reads and
// writes them, in the terms it uses (the API service names what it needs here instead of calling
// Prisma). The notification router and the delivery processor have theirs in
// notification.repository.ts (set-based statements tuned for the evaluation's cost, BENCHMARKS.md).
import { Injectable } from '@nestjs/common';
import type {
  Alert,
  AlertRule,
  AlertTransition,
  NotificationDelivery,
  Prisma,
  Receiver,
  Silence,
} from '../generated/prisma/client';
import { PrismaRepository } from '../repositories/prisma.repository';

/** An alert rule's columns as the API writes them (rule-row.ts builds the default ones). */
export type RuleData = Prisma.AlertRuleCreateManyInput;

/** Filters of GET /alerts (all optional) and its page size. */
export interface AlertFilter {
  state?: string;
  query?: string;
  rule?: string;
  limit: number;
}

/** Who acknowledged a firing alert, when and why; null everywhere clears it. */
export interface Acknowledgement {
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
}

export interface NewSilence {
  matchers: Prisma.InputJsonValue;
  startsAt: Date;
  endsAt: Date;
  comment: string;
  createdBy: string;
}

/** A receiver's settings as the API writes them (name, kind and creator only on create). */
export interface ReceiverSettings {
  kind: string;
  url: string;
  matchers: Prisma.InputJsonValue;
  sendResolved: boolean;
  groupWaitSeconds: number;
  groupIntervalSeconds: number;
  repeatIntervalSeconds: number;
}

/** A delivery row for a test notification (what the queue then sends). */
export interface NewTestDelivery {
  id: string;
  receiverId: string;
  payload: Prisma.InputJsonValue;
}

@Injectable()
export class AlertRuleRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** Creates the rules whose names do not exist yet; an existing one is never overwritten. */
  async createMissing(rows: RuleData[]): Promise<void> {
    await this.prisma.alertRule.createMany({ data: rows, skipDuplicates: true });
  }

  async list(): Promise<AlertRule[]> {
    return this.prisma.alertRule.findMany({ orderBy: { name: 'asc' } });
  }

  async findByName(name: string): Promise<AlertRule | null> {
    return this.prisma.alertRule.findUnique({ where: { name } });
  }

  /** Creates a rule; a rule of that name existing fails with Prisma's unique violation (P2002). */
  async create(data: RuleData): Promise<AlertRule> {
    return this.prisma.alertRule.create({ data });
  }

  async replace(name: string, data: RuleData): Promise<AlertRule> {
    return this.prisma.alertRule.update({ where: { name }, data });
  }

  /** Deletes the rule (its alerts go with it); none of that name is not an error. */
  async delete(name: string): Promise<void> {
    await this.prisma.alertRule.deleteMany({ where: { name } });
  }
}

@Injectable()
export class AlertRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** Alerts matching `filter`, by query then age; at most `filter.limit`. */
  async list(filter: AlertFilter): Promise<Alert[]> {
    return this.prisma.alert.findMany({
      where: {
        ...(filter.state ? { state: filter.state } : {}),
        ...(filter.query ? { queryName: filter.query } : {}),
        ...(filter.rule ? { rule: { name: filter.rule } } : {}),
      },
      orderBy: [{ queryName: 'asc' }, { activeAt: 'asc' }],
      take: filter.limit,
    });
  }

  async find(id: string): Promise<Alert | null> {
    return this.prisma.alert.findUnique({ where: { id } });
  }

  async setAcknowledgement(id: string, ack: Acknowledgement): Promise<Alert> {
    return this.prisma.alert.update({ where: { id }, data: ack });
  }

  /** Transitions, newest first, of one query (by name) or all; at most `limit`. */
  async transitions(query: string | undefined, limit: number): Promise<AlertTransition[]> {
    return this.prisma.alertTransition.findMany({
      where: query ? { queryName: query } : {},
      orderBy: { id: 'desc' },
      take: limit,
    });
  }
}

@Injectable()
export class SilenceRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** Silences in force at `now` (started, not ended, not expired by hand), newest first. */
  async active(now: Date, limit?: number): Promise<Silence[]> {
    return this.prisma.silence.findMany({
      where: { startsAt: { lte: now }, endsAt: { gt: now }, expiredAt: null },
      orderBy: { createdAt: 'desc' },
      ...(limit === undefined ? {} : { take: limit }),
    });
  }

  /** Silences not in force at `now` (ended, expired by hand, or not started yet), newest first. */
  async inactive(now: Date, limit: number): Promise<Silence[]> {
    return this.prisma.silence.findMany({
      where: { OR: [{ endsAt: { lte: now } }, { expiredAt: { not: null } }, { startsAt: { gt: now } }] },
      orderBy: { createdAt: 'desc' },
      take: limit,
    });
  }

  /** Every silence, newest first; at most `limit`. */
  async list(limit: number): Promise<Silence[]> {
    return this.prisma.silence.findMany({ orderBy: { createdAt: 'desc' }, take: limit });
  }

  async find(id: string): Promise<Silence | null> {
    return this.prisma.silence.findUnique({ where: { id } });
  }

  async create(silence: NewSilence): Promise<Silence> {
    return this.prisma.silence.create({ data: silence });
  }

  async expire(id: string, at: Date): Promise<Silence> {
    return this.prisma.silence.update({ where: { id }, data: { expiredAt: at } });
  }
}

@Injectable()
export class ReceiverRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  async list(): Promise<Receiver[]> {
    return this.prisma.receiver.findMany({ orderBy: { name: 'asc' } });
  }

  async findByName(name: string): Promise<Receiver | null> {
    return this.prisma.receiver.findUnique({ where: { name } });
  }

  /** Creates a receiver; one of that name existing fails with Prisma's unique violation (P2002). */
  async create(name: string, settings: ReceiverSettings, createdBy: string): Promise<Receiver> {
    return this.prisma.receiver.create({ data: { name, ...settings, createdBy } });
  }

  async replace(id: string, settings: ReceiverSettings & { enabled: boolean }): Promise<Receiver> {
    return this.prisma.receiver.update({ where: { id }, data: settings });
  }

  /** A new signing secret: the version its secret is derived with goes up by one. */
  async bumpSecretVersion(id: string): Promise<Receiver> {
    return this.prisma.receiver.update({ where: { id }, data: { secretVersion: { increment: 1 } } });
  }

  async delete(id: string): Promise<void> {
    await this.prisma.receiver.delete({ where: { id } });
  }

  async addTestDelivery(d: NewTestDelivery): Promise<NotificationDelivery> {
    return this.prisma.notificationDelivery.create({ data: { ...d, groupKey: 'test', test: true } });
  }

  /** The receiver's deliveries, newest first; at most `limit`. */
  async deliveries(receiverId: string, limit: number): Promise<NotificationDelivery[]> {
    return this.prisma.notificationDelivery.findMany({
      where: { receiverId },
      orderBy: { createdAt: 'desc' },
      take: limit,
    });
  }
}
