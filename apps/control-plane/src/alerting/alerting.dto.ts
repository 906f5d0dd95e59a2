// Request bodies and parameters of the alerting API, bounded everywhere: names, label sets,
// matchers (regexes are compiled here, so a bad one is a 400 naming the field), URLs, comments.
import { HEALTH_CHECKS, SEVERITIES } from '@sluice/alerting';
import { z } from 'zod';

const RULE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
export const ruleName = z
  .string()
  .regex(RULE_NAME, 'letters, digits and _, starting with a letter, at most 100');
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const labelName = z.string().regex(LABEL_NAME, 'a Prometheus label name (letters, digits, _), at most 64');
const labelSet = z
  .record(labelName, z.string().max(256))
  .refine((o) => Object.keys(o).length <= 20, 'at most 20 labels');
const queryName = z.string().min(1).max(253);
const seconds = (max: number) => z.number().int().min(0).max(max);
const positive = z.number().positive().max(1e15);

const templates = z.strictObject({
  summary: z.string().min(1).max(1024),
  description: z.string().max(4096).default(''),
  dashboard: z.string().max(1024).default('{{ $dashboardUrl }}/queries/{{ $labels.query }}'),
});

const common = {
  name: ruleName,
  forSeconds: seconds(7 * 86400),
  severity: z.enum(SEVERITIES as ['critical', 'warning', 'info']),
  labels: labelSet.default({}),
  annotations: templates,
  queries: z.array(queryName).max(100).default([]).describe('Query names the rule applies to; empty = all'),
  enabled: z.boolean().default(true),
  cluster: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a SLUICE_CLUSTER_NAME')
    .nullable()
    .default(null)
    .describe('Only the leader of this cluster evaluates the rule; null = every cluster'),
};

export const alertRuleBody = z.discriminatedUnion('kind', [
  z.strictObject({
    ...common,
    kind: z.literal('timeLag'),
    params: z.strictObject({ thresholdSeconds: positive }),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('recordsLag'),
    params: z.strictObject({ thresholdRecords: positive }),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('consumerStatus'),
    params: z.strictObject({
      statuses: z
        .array(z.enum(['WARNING', 'STOP', 'STALL', 'REWIND']))
        .min(1)
        .max(4),
      windowSize: z.number().int().min(2).max(100).default(10),
      minimumComplete: z.number().min(0).max(1).default(0),
    }),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('sloBurn'),
    params: z
      .strictObject({
        maxLagSeconds: positive,
        target: z.number().gt(0).lt(1),
        longWindowSeconds: z
          .number()
          .int()
          .min(60)
          .max(7 * 86400),
        shortWindowSeconds: z
          .number()
          .int()
          .min(10)
          .max(7 * 86400),
        burnRate: z.number().positive().max(1e6),
      })
      .refine((p) => p.shortWindowSeconds < p.longWindowSeconds, {
        message: 'shortWindowSeconds must be below longWindowSeconds',
        path: ['shortWindowSeconds'],
      }),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('queryHealth'),
    params: z.strictObject({
      check: z.enum(HEALTH_CHECKS as ['failed', 'crashLooping', 'stalled', 'noProgress']),
      crashes: z.number().int().min(1).max(1000).optional(),
      windowSeconds: seconds(86400).optional(),
      silenceSeconds: seconds(86400).optional(),
    }),
  }),
]);
export type AlertRuleBody = z.infer<typeof alertRuleBody>;

export const matcher = z
  .strictObject({
    name: labelName,
    value: z.string().max(256),
    isRegex: z.boolean().default(false),
    isEqual: z.boolean().default(true),
  })
  .superRefine((m, ctx) => {
    if (!m.isRegex) return;
    try {
      new RegExp(`^(?:${m.value})$`, 'u');
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `not a valid regex: ${(e as Error).message}`,
      });
    }
  });
export type MatcherBody = z.infer<typeof matcher>;

export const silenceBody = z
  .strictObject({
    matchers: z.array(matcher).min(1).max(20),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }),
    comment: z.string().trim().min(1).max(1000),
  })
  .superRefine((s, ctx) => {
    const start = s.startsAt ? Date.parse(s.startsAt) : Date.now();
    const end = Date.parse(s.endsAt);
    if (!(end > start)) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
    if (end - start > 366 * 86_400_000)
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'a silence lasts at most a year' });
  });
export type SilenceBody = z.infer<typeof silenceBody>;

export const receiverName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and -, at most 63');

export const receiverBody = z.strictObject({
  name: receiverName,
  kind: z.enum(['webhook', 'slack']),
  /** Checked for http(s) and against SLUICE_ALERT_RECEIVER_HOSTS by the service (422). */
  url: z.string().min(1).max(2048),
  matchers: z.array(matcher).max(20).default([]),
  sendResolved: z.boolean().default(true),
  groupWaitSeconds: seconds(3600).default(30),
  groupIntervalSeconds: z.number().int().min(1).max(86400).default(300),
  repeatIntervalSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86400)
    .default(14400),
});
export type ReceiverBody = z.infer<typeof receiverBody>;

/** PUT /receivers/:name: the whole receiver again, plus whether it is enabled. The signing secret
 * is not part of it (POST /receivers/:name/rotate-secret replaces it). */
export const receiverReplaceBody = receiverBody.extend({ enabled: z.boolean().default(true) });
export type ReceiverReplaceBody = z.infer<typeof receiverReplaceBody>;

export const ackBody = z.strictObject({ comment: z.string().trim().max(1000).default('') });

export const alertsQuery = z.strictObject({
  state: z.enum(['pending', 'firing', 'resolved']).optional(),
  query: queryName.optional(),
  rule: ruleName.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

export const historyQuery = z.strictObject({
  query: queryName.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const silencesQuery = z.strictObject({
  active: z.enum(['true', 'false']).optional(),
});

export const deliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
