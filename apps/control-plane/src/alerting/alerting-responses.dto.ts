// Response bodies of the alerting API (documented in OpenAPI, checked by schemathesis).
import { z } from 'zod';

const when = z.string().nullable();
const strings = z.record(z.string(), z.string());
const matcherView = z.object({
  name: z.string(),
  value: z.string(),
  isRegex: z.boolean(),
  isEqual: z.boolean(),
});

export const alertRuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['timeLag', 'recordsLag', 'consumerStatus', 'sloBurn', 'queryHealth']),
    params: z.record(z.string(), z.unknown()),
    forSeconds: z.number().int(),
    severity: z.string(),
    labels: strings,
    annotations: strings,
    queries: z.array(z.string()),
    enabled: z.boolean(),
    cluster: z.string().nullable(),
    builtIn: z.boolean().describe('One of the default rules created on deploy'),
    createdAt: z.string(),
    updatedAt: z.string(),
    updatedBy: z.string().nullable(),
  })
  .meta({ id: 'AlertRule' });

export const alertSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    query: z.string(),
    queryId: z.string(),
    state: z.enum(['pending', 'firing', 'resolved']),
    activeAt: when,
    firedAt: when,
    resolvedAt: when,
    value: z.number().nullable(),
    figures: z.record(z.string(), z.unknown()),
    labels: strings,
    annotations: strings,
    silencedBy: z.array(z.string()).describe('Ids of the active silences muting it'),
    acknowledged: z.object({ at: z.string(), by: z.string(), comment: z.string() }).nullable(),
  })
  .meta({ id: 'Alert' });

export const alertTransitionSchema = z
  .object({
    id: z.string(),
    alertId: z.string(),
    rule: z.string(),
    query: z.string(),
    from: z.string(),
    to: z.string(),
    value: z.number().nullable(),
    figures: z.record(z.string(), z.unknown()),
    at: z.string(),
  })
  .meta({ id: 'AlertTransition' });

export const silenceSchema = z
  .object({
    id: z.string(),
    matchers: z.array(matcherView),
    startsAt: z.string(),
    endsAt: z.string(),
    createdBy: z.string(),
    comment: z.string(),
    createdAt: z.string(),
    state: z.enum(['pending', 'active', 'expired']),
  })
  .meta({ id: 'Silence' });

export const receiverSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['webhook', 'slack']),
    url: z.string().describe('Scheme and host only: the path may be a secret (Slack)'),
    matchers: z.array(matcherView),
    sendResolved: z.boolean(),
    groupWaitSeconds: z.number().int(),
    groupIntervalSeconds: z.number().int(),
    repeatIntervalSeconds: z.number().int(),
    enabled: z.boolean(),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
  })
  .meta({ id: 'Receiver' });

export const createdReceiverSchema = receiverSchema
  .extend({
    signingSecret: z.string().describe('HMAC-SHA256 key of X-Sluice-Signature; shown only once'),
  })
  .meta({ id: 'CreatedReceiver' });

export const deliverySchema = z
  .object({
    id: z.string().describe('Also the Idempotency-Key header the receiver gets'),
    groupKey: z.string(),
    status: z
      .enum(['queued', 'retrying', 'deferred', 'delivered', 'failed'])
      .describe(
        'deferred: a round of attempts failed, the next round starts at nextAttemptAt (a delivery is never ' +
          'given up while its receiver exists); failed: retrying cannot help (URL no longer allowed)',
      ),
    attempts: z.number().int(),
    httpStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    test: z.boolean(),
    createdAt: z.string(),
    deliveredAt: when,
    nextAttemptAt: when,
  })
  .meta({ id: 'NotificationDelivery' });
