// What the alerting API does: rules (admins edit), alerts and their history (viewers read,
// operators acknowledge), silences (operators), receivers (admins; operators send a test
// notification). Every mutation is audited.
import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
  type OnApplicationBootstrap,
  Logger,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { compileMatchers, type LabelMatcher } from '@sluice/alerting';
import type { Actor } from '../audit/actor';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Alert, AlertTransition, Prisma, Receiver, Silence } from '../generated/prisma/client';
import {
  AlertRepository,
  AlertRuleRepository,
  ReceiverRepository,
  SilenceRepository,
  type ReceiverSettings,
} from './alerting.repository';
import type { AlertRuleBody, ReceiverBody, ReceiverReplaceBody, SilenceBody } from './alerting.dto';
import { NotificationRouter } from './notification-router.service';
import { DeliveryQueue } from './receivers/delivery-queue.service';
import { checkReceiverUrl, displayUrl, parseAllowList } from './receivers/receiver-url';
import { receiverSecret } from './receivers/signature';
import { signingKey } from './receivers/signing-key';
import { defaultRuleRows, ruleView } from './rule-row';

const notFound = (what: string) => new NotFoundException({ code: 'NOT_FOUND', message: `${what} not found` });
const json = (v: unknown) => v as Prisma.InputJsonValue;
/** The public members of T (what a caller uses), without its private fields. */
type Port<T> = { [K in keyof T]: T[K] };
/** At most this many silences in one listing. */
const SILENCES_LISTED = 1000;

@Injectable()
export class AlertingApi implements OnApplicationBootstrap {
  private readonly logger = new Logger(AlertingApi.name);

  // Public shapes (Port) with explicit tokens, so a unit test passes typed fakes (alerting-api.service.spec.ts).
  constructor(
    @Inject(AlertRuleRepository) private readonly ruleRows: Port<AlertRuleRepository>,
    @Inject(AlertRepository) private readonly alertRows: Port<AlertRepository>,
    @Inject(SilenceRepository) private readonly silenceRows: Port<SilenceRepository>,
    @Inject(ReceiverRepository) private readonly receiverRows: Port<ReceiverRepository>,
    @Inject(AuditService) private readonly audit: Pick<AuditService, 'record'>,
    @Inject(NotificationRouter) private readonly router: Pick<NotificationRouter, 'payload'>,
    @Inject(DeliveryQueue) private readonly queue: Pick<DeliveryQueue, 'enqueue'>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Default rules on deploy: created when missing, never overwritten (an admin may have edited them). */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.ruleRows.createMissing(defaultRuleRows());
    } catch (e) {
      this.logger.warn(`default alert rules not written (next start retries): ${(e as Error).message}`);
    }
  }

  // ── rules ────────────────────────────────────────────────────────────────────────────────
  async rules() {
    return (await this.ruleRows.list()).map(ruleView);
  }

  async rule(name: string) {
    const row = await this.ruleRows.findByName(name);
    if (!row) throw notFound(`alert rule "${name}"`);
    return ruleView(row);
  }

  // No interactive transactions here: under load PostgreSQL connections are what the evaluator
  // needs, and a unique violation (P2002) says "exists" as reliably as a look-up first.
  async createRule(body: AlertRuleBody, actor: Actor) {
    const row = await this.ruleRows
      .create({ ...ruleData(body), updatedBy: actor.name })
      .catch((e: unknown) => {
        throw uniqueViolation(e)
          ? new ConflictException({ code: 'ALERT_RULE_EXISTS', message: `alert rule "${body.name}" exists` })
          : e;
      });
    await this.audit.record({
      actor,
      action: 'alert-rule.create',
      target: `alert-rule/${row.name}`,
      after: ruleView(row),
    });
    return ruleView(row);
  }

  async replaceRule(name: string, body: AlertRuleBody, actor: Actor) {
    if (body.name !== name) {
      throw new UnprocessableEntityException({
        code: 'VALIDATION_FAILED',
        message: 'name: must be the name in the path (rules are not renamed)',
        errors: [{ path: 'name', message: 'must be the name in the path' }],
      });
    }
    const before = await this.ruleRows.findByName(name);
    if (!before) throw notFound(`alert rule "${name}"`);
    const row = await this.ruleRows.replace(name, { ...ruleData(body), updatedBy: actor.name });
    await this.audit.record({
      actor,
      action: 'alert-rule.update',
      target: `alert-rule/${name}`,
      before: ruleView(before),
      after: ruleView(row),
    });
    return ruleView(row);
  }

  async deleteRule(name: string, actor: Actor) {
    const before = await this.ruleRows.findByName(name);
    if (!before) throw notFound(`alert rule "${name}"`);
    await this.ruleRows.delete(name);
    await this.audit.record({
      actor,
      action: 'alert-rule.delete',
      target: `alert-rule/${name}`,
      before: ruleView(before),
    });
  }

  // ── alerts ───────────────────────────────────────────────────────────────────────────────
  async alerts(q: { state?: string; query?: string; rule?: string; limit: number }) {
    const now = new Date();
    const [rows, silences] = await Promise.all([this.alertRows.list(q), this.activeSilences(now)]);
    return rows.map((a) => alertView(a, silences));
  }

  async alert(id: string) {
    const row = await this.alertRows.find(id);
    if (!row) throw notFound('alert');
    return alertView(row, await this.activeSilences(new Date()));
  }

  async history(q: { query?: string; limit: number }) {
    const rows = await this.alertRows.transitions(q.query, q.limit);
    return rows.map(transitionView);
  }

  async acknowledge(id: string, comment: string, actor: Actor) {
    const row = await this.alertRows.find(id);
    if (!row) throw notFound('alert');
    if (row.state !== 'firing') {
      throw new ConflictException({
        code: 'ALERT_NOT_FIRING',
        message: `only a firing alert can be acknowledged (it is ${row.state})`,
      });
    }
    const updated = await this.alertRows.setAcknowledgement(id, {
      acknowledgedAt: new Date(),
      acknowledgedBy: actor.name,
      ackComment: comment,
    });
    await this.audit.record({
      actor,
      action: 'alert.acknowledge',
      target: `alert/${id}`,
      after: { comment },
    });
    return alertView(updated, await this.activeSilences(new Date()));
  }

  async unacknowledge(id: string, actor: Actor) {
    const row = await this.alertRows.find(id);
    if (!row) throw notFound('alert');
    const updated = await this.alertRows.setAcknowledgement(id, {
      acknowledgedAt: null,
      acknowledgedBy: null,
      ackComment: null,
    });
    await this.audit.record({ actor, action: 'alert.unacknowledge', target: `alert/${id}` });
    return alertView(updated, await this.activeSilences(new Date()));
  }

  // ── silences ─────────────────────────────────────────────────────────────────────────────
  private activeSilences(now: Date) {
    return this.silenceRows.active(now);
  }

  async silences(active?: boolean) {
    const now = new Date();
    const rows =
      active === undefined
        ? await this.silenceRows.list(SILENCES_LISTED)
        : active
          ? await this.silenceRows.active(now, SILENCES_LISTED)
          : await this.silenceRows.inactive(now, SILENCES_LISTED);
    return rows.map((s) => silenceView(s, now));
  }

  async silence(id: string) {
    const row = await this.silenceRows.find(id);
    if (!row) throw notFound('silence');
    return silenceView(row, new Date());
  }

  async createSilence(body: SilenceBody, actor: Actor) {
    const row = await this.silenceRows.create({
      matchers: json(body.matchers),
      startsAt: body.startsAt ? new Date(body.startsAt) : new Date(),
      endsAt: new Date(body.endsAt),
      comment: body.comment,
      createdBy: actor.name,
    });
    const view = silenceView(row, new Date());
    await this.audit.record({ actor, action: 'silence.create', target: `silence/${row.id}`, after: view });
    return view;
  }

  async expireSilence(id: string, actor: Actor) {
    const row = await this.silenceRows.find(id);
    if (!row) throw notFound('silence');
    const updated = row.expiredAt ? row : await this.silenceRows.expire(id, new Date());
    await this.audit.record({ actor, action: 'silence.expire', target: `silence/${id}` });
    return silenceView(updated, new Date());
  }

  // ── receivers ────────────────────────────────────────────────────────────────────────────
  async receivers() {
    return (await this.receiverRows.list()).map(receiverView);
  }

  async receiver(name: string) {
    return receiverView(await this.receiverRow(name));
  }

  private async receiverRow(name: string): Promise<Receiver> {
    const row = await this.receiverRows.findByName(name);
    if (!row) throw notFound(`receiver "${name}"`);
    return row;
  }

  async createReceiver(body: ReceiverBody, actor: Actor) {
    const url = this.receiverUrl(body.url);
    const key = this.requireSigningKey();
    const row = await this.receiverRows
      .create(body.name, receiverSettings(body, url), actor.name)
      .catch((e: unknown) => {
        throw uniqueViolation(e)
          ? new ConflictException({ code: 'RECEIVER_EXISTS', message: `receiver "${body.name}" exists` })
          : e;
      });
    const view = receiverView(row);
    await this.audit.record({
      actor,
      action: 'receiver.create',
      target: `receiver/${row.name}`,
      after: view,
    });
    // The signing secret is shown once; it can be recomputed only from the key.
    return { ...view, signingSecret: receiverSecret(key, row.id, row.secretVersion) };
  }

  async replaceReceiver(name: string, body: ReceiverReplaceBody, actor: Actor) {
    if (body.name !== name) {
      throw new UnprocessableEntityException({
        code: 'VALIDATION_FAILED',
        message: 'name: must be the name in the path (receivers are not renamed)',
        errors: [{ path: 'name', message: 'must be the name in the path' }],
      });
    }
    const verdict = this.receiverUrl(body.url);
    const before = await this.receiverRow(name);
    const row = await this.receiverRows.replace(before.id, {
      ...receiverSettings(body, verdict),
      enabled: body.enabled,
    });
    const view = receiverView(row);
    await this.audit.record({
      actor,
      action: 'receiver.update',
      target: `receiver/${name}`,
      before: receiverView(before),
      after: view,
    });
    return view;
  }

  /**
   * A new signing secret (the version in the derivation goes up): notifications sent from now on,
   * including retries of queued ones, are signed with it; the old one stops verifying. Shown once.
   */
  async rotateReceiverSecret(name: string, actor: Actor) {
    const key = this.requireSigningKey();
    const before = await this.receiverRow(name);
    const row = await this.receiverRows.bumpSecretVersion(before.id);
    const view = receiverView(row);
    await this.audit.record({
      actor,
      action: 'receiver.rotate-secret',
      target: `receiver/${name}`,
      // The secret itself never goes to the audit log; its version does.
      before: { secretVersion: before.secretVersion },
      after: { secretVersion: row.secretVersion },
    });
    return { ...view, signingSecret: receiverSecret(key, row.id, row.secretVersion) };
  }

  private receiverUrl(url: string): URL {
    const verdict = checkReceiverUrl(url, parseAllowList(this.config.SLUICE_ALERT_RECEIVER_HOSTS));
    if (!verdict.ok) {
      throw new UnprocessableEntityException({
        code: 'INVALID_RECEIVER_URL',
        message: verdict.reason,
        errors: [{ path: 'url', message: verdict.reason.replace(/^url: /, '') }],
      });
    }
    return verdict.url;
  }

  private requireSigningKey(): string {
    const key = signingKey(this.config);
    if (!key) {
      throw new UnprocessableEntityException({
        code: 'SIGNING_KEY_MISSING',
        message: 'receivers sign every notification: set SLUICE_ALERT_SIGNING_KEY on the control plane',
      });
    }
    return key;
  }

  async deleteReceiver(name: string, actor: Actor) {
    const row = await this.receiverRow(name);
    await this.receiverRows.delete(row.id);
    await this.audit.record({
      actor,
      action: 'receiver.delete',
      target: `receiver/${name}`,
      before: receiverView(row),
    });
  }

  /** A synthetic firing alert through the real path: delivery row, queue, signature, retries. */
  async sendTest(name: string, actor: Actor) {
    const receiver = await this.receiverRow(name);
    const now = new Date();
    const id = randomUUID();
    const fake = {
      id,
      state: 'firing',
      labels: { alertname: 'SluiceTestNotification', query: 'test', severity: 'info' },
      annotations: {
        summary: `Test notification from Sluice, sent by ${actor.name}`,
        description: '',
        dashboard: '',
      },
      activeAt: now,
      firedAt: now,
      resolvedAt: null,
    } as unknown as Alert;
    const delivery = await this.receiverRows.addTestDelivery({
      id,
      receiverId: receiver.id,
      payload: json(this.router.payload(receiver, 'test', [fake])),
    });
    await this.queue.enqueue(delivery.id);
    await this.audit.record({
      actor,
      action: 'receiver.test',
      target: `receiver/${name}`,
      after: { deliveryId: id },
    });
    return deliveryView(delivery);
  }

  async deliveries(name: string, limit: number) {
    const receiver = await this.receiverRow(name);
    const rows = await this.receiverRows.deliveries(receiver.id, limit);
    return rows.map(deliveryView);
  }
}

function uniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'P2002';
}

function receiverSettings(body: ReceiverBody | ReceiverReplaceBody, url: URL): ReceiverSettings {
  return {
    kind: body.kind,
    url: url.toString(),
    matchers: json(body.matchers),
    sendResolved: body.sendResolved,
    groupWaitSeconds: body.groupWaitSeconds,
    groupIntervalSeconds: body.groupIntervalSeconds,
    repeatIntervalSeconds: body.repeatIntervalSeconds,
  };
}

function ruleData(body: AlertRuleBody) {
  return {
    name: body.name,
    kind: body.kind,
    params: json(body.params),
    forSeconds: body.forSeconds,
    severity: body.severity,
    labels: body.labels,
    annotations: body.annotations,
    queries: body.queries,
    enabled: body.enabled,
    cluster: body.cluster,
  };
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function alertView(a: Alert, silences: readonly Silence[]) {
  const labels = a.labels as Record<string, string>;
  const silencedBy = silences
    .filter((s) => compileMatchers(s.matchers as unknown as LabelMatcher[])(labels))
    .map((s) => s.id);
  return {
    id: a.id,
    rule: labels.alertname ?? '',
    query: a.queryName,
    queryId: a.queryId,
    state: a.state,
    activeAt: iso(a.activeAt),
    firedAt: iso(a.firedAt),
    resolvedAt: iso(a.resolvedAt),
    value: a.value,
    figures: a.figures as Record<string, unknown>,
    labels,
    annotations: a.annotations as Record<string, string>,
    silencedBy,
    acknowledged: a.acknowledgedAt
      ? { at: a.acknowledgedAt.toISOString(), by: a.acknowledgedBy ?? '', comment: a.ackComment ?? '' }
      : null,
  };
}

function transitionView(t: AlertTransition) {
  return {
    id: String(t.id),
    alertId: t.alertId,
    rule: t.ruleName,
    query: t.queryName,
    from: t.from,
    to: t.to,
    value: t.value,
    figures: t.figures as Record<string, unknown>,
    at: t.at.toISOString(),
  };
}

export { transitionView };

function silenceView(s: Silence, now: Date) {
  const state = s.expiredAt || s.endsAt <= now ? 'expired' : s.startsAt > now ? 'pending' : 'active';
  return {
    id: s.id,
    matchers: s.matchers as unknown as LabelMatcher[],
    startsAt: s.startsAt.toISOString(),
    endsAt: (s.expiredAt ?? s.endsAt).toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
    createdAt: s.createdAt.toISOString(),
    state,
  };
}

function receiverView(r: Receiver) {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    url: displayUrl(r.url),
    matchers: r.matchers as unknown as LabelMatcher[],
    sendResolved: r.sendResolved,
    groupWaitSeconds: r.groupWaitSeconds,
    groupIntervalSeconds: r.groupIntervalSeconds,
    repeatIntervalSeconds: r.repeatIntervalSeconds,
    enabled: r.enabled,
    createdAt: r.createdAt.toISOString(),
    createdBy: r.createdBy,
  };
}

function deliveryView(d: {
  id: string;
  groupKey: string;
  status: string;
  attempts: number;
  httpStatus: number | null;
  lastError: string | null;
  test: boolean;
  createdAt: Date;
  deliveredAt: Date | null;
  nextAttemptAt: Date | null;
}) {
  return {
    id: d.id,
    groupKey: d.groupKey,
    status: d.status,
    attempts: d.attempts,
    httpStatus: d.httpStatus,
    lastError: d.lastError,
    test: d.test,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: iso(d.deliveredAt),
    nextAttemptAt: iso(d.nextAttemptAt),
  };
}
