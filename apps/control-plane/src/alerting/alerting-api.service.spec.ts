// The alerting API service over typed in-memory fakes of its repositories (as immich's service
// specs): acknowledgement rules, silence expiry, rule conflicts and what each change audits.
import { ConflictException, NotFoundException } from '@nestjs/common';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadAppConfig } from '../config/app-config';
import type { AuditEntry } from '../audit/audit.service';
import type {
  Alert,
  AlertRule,
  AlertTransition,
  NotificationDelivery,
  Receiver,
  Silence,
} from '../generated/prisma/client';
import { AlertingApi } from './alerting-api.service';
import type {
  Acknowledgement,
  AlertFilter,
  AlertRepository,
  AlertRuleRepository,
  NewSilence,
  ReceiverRepository,
  RuleData,
  SilenceRepository,
} from './alerting.repository';

type Port<T> = { [K in keyof T]: T[K] };
const actor = { id: 'token-1', name: 'ops' };
let nextId = 1;
const uuid = () => `00000000-0000-4000-8000-${String(nextId++).padStart(12, '0')}`;

class FakeRules implements Port<AlertRuleRepository> {
  readonly rows = new Map<string, AlertRule>();
  async createMissing(rows: RuleData[]): Promise<void> {
    for (const r of rows) if (!this.rows.has(r.name)) await this.create(r);
  }
  async list(): Promise<AlertRule[]> {
    return [...this.rows.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
  async findByName(name: string): Promise<AlertRule | null> {
    return this.rows.get(name) ?? null;
  }
  async create(data: RuleData): Promise<AlertRule> {
    // As PostgreSQL answers a duplicate name: Prisma's unique violation.
    if (this.rows.has(data.name)) throw Object.assign(new Error('unique'), { code: 'P2002' });
    const now = new Date();
    const row: AlertRule = {
      id: uuid(),
      name: data.name,
      kind: data.kind,
      params: data.params as AlertRule['params'],
      forSeconds: data.forSeconds,
      severity: data.severity,
      labels: (data.labels ?? {}) as AlertRule['labels'],
      annotations: data.annotations as AlertRule['annotations'],
      queries: (data.queries as string[] | undefined) ?? [],
      cluster: data.cluster ?? null,
      enabled: data.enabled ?? true,
      builtIn: data.builtIn ?? false,
      createdAt: now,
      updatedAt: now,
      updatedBy: data.updatedBy ?? null,
    };
    this.rows.set(row.name, row);
    return row;
  }
  async replace(name: string, data: RuleData): Promise<AlertRule> {
    this.rows.delete(name);
    return this.create(data);
  }
  async delete(name: string): Promise<void> {
    this.rows.delete(name);
  }
}

class FakeAlerts implements Port<AlertRepository> {
  readonly rows = new Map<string, Alert>();
  add(fields: Partial<Alert>): Alert {
    const row: Alert = {
      id: uuid(),
      ruleId: uuid(),
      queryId: uuid(),
      queryName: 'clicks',
      state: 'firing',
      activeAt: new Date(),
      firedAt: new Date(),
      resolvedAt: null,
      value: 1,
      figures: {},
      labels: { alertname: 'QueryFailed', query: 'clicks' },
      annotations: {},
      acknowledgedAt: null,
      acknowledgedBy: null,
      ackComment: null,
      updatedAt: new Date(),
      ...fields,
    };
    this.rows.set(row.id, row);
    return row;
  }
  async list(filter: AlertFilter): Promise<Alert[]> {
    return [...this.rows.values()]
      .filter((a) => !filter.state || a.state === filter.state)
      .slice(0, filter.limit);
  }
  async find(id: string): Promise<Alert | null> {
    return this.rows.get(id) ?? null;
  }
  async setAcknowledgement(id: string, ack: Acknowledgement): Promise<Alert> {
    const row = { ...this.rows.get(id)!, ...ack };
    this.rows.set(id, row);
    return row;
  }
  async transitions(): Promise<AlertTransition[]> {
    return [];
  }
}

class FakeSilences implements Port<SilenceRepository> {
  readonly rows = new Map<string, Silence>();
  /** How many times a silence was expired (an already expired one must not be again). */
  expiries = 0;
  private inForce = (s: Silence, now: Date) => s.startsAt <= now && s.endsAt > now && s.expiredAt === null;
  async active(now: Date): Promise<Silence[]> {
    return [...this.rows.values()].filter((s) => this.inForce(s, now));
  }
  async inactive(now: Date): Promise<Silence[]> {
    return [...this.rows.values()].filter((s) => !this.inForce(s, now));
  }
  async list(limit: number): Promise<Silence[]> {
    return [...this.rows.values()].slice(0, limit);
  }
  async find(id: string): Promise<Silence | null> {
    return this.rows.get(id) ?? null;
  }
  async create(s: NewSilence): Promise<Silence> {
    const row: Silence = {
      ...s,
      matchers: s.matchers as Silence['matchers'],
      id: uuid(),
      createdAt: new Date(),
      expiredAt: null,
    };
    this.rows.set(row.id, row);
    return row;
  }
  async expire(id: string, at: Date): Promise<Silence> {
    this.expiries++;
    const row = { ...this.rows.get(id)!, expiredAt: at };
    this.rows.set(id, row);
    return row;
  }
}

/** Receivers are not exercised here (alerting-receivers.int.ts covers them on the real stack). */
class NoReceivers implements Port<ReceiverRepository> {
  async list(): Promise<Receiver[]> {
    return [];
  }
  async findByName(): Promise<Receiver | null> {
    return null;
  }
  private refuse(): never {
    throw new Error('NoReceivers: no receiver exists in this test');
  }
  async create(): Promise<Receiver> {
    return this.refuse();
  }
  async replace(): Promise<Receiver> {
    return this.refuse();
  }
  async bumpSecretVersion(): Promise<Receiver> {
    return this.refuse();
  }
  async delete(): Promise<void> {
    this.refuse();
  }
  async addTestDelivery(): Promise<NotificationDelivery> {
    return this.refuse();
  }
  async deliveries(): Promise<NotificationDelivery[]> {
    return [];
  }
}

let rules: FakeRules;
let alerts: FakeAlerts;
let silences: FakeSilences;
let audited: AuditEntry[];
let api: AlertingApi;

beforeEach(() => {
  rules = new FakeRules();
  alerts = new FakeAlerts();
  silences = new FakeSilences();
  audited = [];
  api = new AlertingApi(
    rules,
    alerts,
    silences,
    new NoReceivers(),
    {
      record: async (e: AuditEntry) => {
        audited.push(e);
      },
    },
    { payload: () => ({}) },
    { enqueue: async () => true },
    loadAppConfig({}),
  );
});

describe('AlertingApi', () => {
  it('acknowledges a firing alert (audited), refuses a resolved one, and clears it again', async () => {
    const firing = alerts.add({ state: 'firing' });
    const resolved = alerts.add({ state: 'resolved' });
    const view = await api.acknowledge(firing.id, 'on it', actor);
    expect(view.acknowledged).toMatchObject({ by: 'ops', comment: 'on it' });
    await expect(api.acknowledge(resolved.id, 'late', actor)).rejects.toThrow(ConflictException);
    expect((await api.unacknowledge(firing.id, actor)).acknowledged).toBeNull();
    expect(audited.map((e) => e.action)).toEqual(['alert.acknowledge', 'alert.unacknowledge']);
    await expect(api.acknowledge(uuid(), 'x', actor)).rejects.toThrow(NotFoundException);
  });

  it('names the active silences that mute an alert, and expires a silence once', async () => {
    const alert = alerts.add({ labels: { alertname: 'QueryFailed', query: 'clicks' } });
    const silence = await api.createSilence(
      {
        matchers: [{ name: 'query', value: 'clicks', isRegex: false, isEqual: true }],
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        comment: 'maintenance',
      },
      actor,
    );
    expect((await api.alert(alert.id)).silencedBy).toEqual([silence.id]);
    await api.expireSilence(silence.id, actor);
    await api.expireSilence(silence.id, actor);
    expect(silences.expiries).toBe(1);
    expect((await api.alert(alert.id)).silencedBy).toEqual([]);
    expect(await api.silences(true)).toEqual([]);
    expect((await api.silences(false)).map((s) => s.id)).toEqual([silence.id]);
  });

  it('answers 409 for a rule name that exists and 404 for one that does not', async () => {
    const body = {
      name: 'SlowClicks',
      kind: 'timeLag' as const,
      params: { thresholdSeconds: 30 },
      forSeconds: 60,
      severity: 'warning' as const,
      labels: {},
      annotations: { summary: 'slow', description: '', dashboard: '' },
      queries: [],
      enabled: true,
      cluster: null,
    };
    await api.createRule(body, actor);
    await expect(api.createRule(body, actor)).rejects.toThrow(ConflictException);
    await expect(api.deleteRule('Missing', actor)).rejects.toThrow(NotFoundException);
    await api.deleteRule('SlowClicks', actor);
    expect(await api.rules()).toEqual([]);
    expect(audited.map((e) => e.action)).toEqual(['alert-rule.create', 'alert-rule.delete']);
  });

  it('creates the default rules once and never overwrites an edited one', async () => {
    await api.onApplicationBootstrap();
    const defaults = (await api.rules()).map((r) => r.name);
    expect(defaults.length).toBeGreaterThan(0);
    const first = defaults[0]!;
    const edited = { ...rules.rows.get(first)!, forSeconds: 1234 };
    rules.rows.set(first, edited);
    await api.onApplicationBootstrap();
    expect((await api.rules()).map((r) => r.name)).toEqual(defaults);
    expect(rules.rows.get(first)!.forSeconds).toBe(1234);
  });
});
