// Notification bodies. The webhook body is Alertmanager's webhook payload, version 4
// (prometheus/alertmanager notify/webhook/webhook.go `Message` embedding template.Data), so
// receivers written for Alertmanager accept it unchanged. The Slack body is the incoming-webhook
// format (`text` plus Block Kit `blocks`).

export interface NotifiedAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAtMs: number;
  readonly endsAtMs: number | null;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface AlertmanagerWebhookV4 {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AlertmanagerAlert[];
}

/** Go's zero time, which Alertmanager sends as `endsAt` of an alert with no known end. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Alertmanager's group key format for a route with group_by [query]: `{}:{query="name"}`. */
export function groupKeyOf(groupLabels: Readonly<Record<string, string>>): string {
  const inner = Object.keys(groupLabels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(groupLabels[k])}`)
    .join(', ');
  return `{}:{${inner}}`;
}

export function webhookPayload(input: {
  receiver: string;
  groupLabels: Readonly<Record<string, string>>;
  alerts: readonly NotifiedAlert[];
  externalURL: string;
  maxAlerts?: number;
}): AlertmanagerWebhookV4 {
  const max = input.maxAlerts ?? 0;
  const kept = max > 0 ? input.alerts.slice(0, max) : input.alerts;
  return {
    version: '4',
    groupKey: groupKeyOf(input.groupLabels),
    truncatedAlerts: input.alerts.length - kept.length,
    // Alertmanager: the group is firing as long as one alert in it is.
    status: input.alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: input.receiver,
    groupLabels: { ...input.groupLabels },
    commonLabels: common(input.alerts.map((a) => a.labels)),
    commonAnnotations: common(input.alerts.map((a) => a.annotations)),
    externalURL: input.externalURL,
    alerts: kept.map((a) => ({
      status: a.status,
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      startsAt: new Date(a.startsAtMs).toISOString(),
      endsAt: a.endsAtMs === null ? ZERO_TIME : new Date(a.endsAtMs).toISOString(),
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    })),
  };
}

/** Labels (or annotations) with the same value in every alert: Alertmanager's common set. */
function common(sets: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  if (sets.length === 0) return {};
  const out: Record<string, string> = { ...sets[0]! };
  for (const s of sets.slice(1)) {
    for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  }
  return out;
}

export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

/** Slack incoming-webhook body: a one-line `text` (notifications, fallbacks) and one section per alert. */
export function slackPayload(v4: AlertmanagerWebhookV4): SlackMessage {
  const firing = v4.alerts.filter((a) => a.status === 'firing').length;
  const head =
    v4.status === 'firing'
      ? `[FIRING:${firing}] ${v4.groupLabels.query ?? v4.groupKey}`
      : `[RESOLVED] ${v4.groupLabels.query ?? v4.groupKey}`;
  return {
    text: head,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: head.slice(0, 150) } },
      ...v4.alerts.slice(0, 20).map((a) => ({
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: [
            `*${a.status === 'firing' ? ':red_circle:' : ':large_green_circle:'} ${a.labels.alertname ?? ''}* (${a.labels.severity ?? ''})`,
            a.annotations.summary ?? '',
            a.annotations.description ?? '',
            a.annotations.dashboard ? `<${a.annotations.dashboard}|Open in the dashboard>` : '',
          ]
            .filter((l) => l !== '')
            .join('\n')
            .slice(0, 3000),
        },
      })),
    ],
  };
}
