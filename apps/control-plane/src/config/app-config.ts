// The control plane's environment, validated once at boot into a typed object. Defaults match the
// local stack (npm run stack:up) so `npm run control-plane` works on a developer machine as is.
import { parsePolicySettings, SCALE_GATE_DEFAULTS, SCALING_INTERVAL_DEFAULT_MS } from '@sluice/scaling';
import { z } from 'zod';
import { sameDatabase } from './postgres-url';
import { secretsKeyBytes } from '../secrets/secret-box';

const port = z.coerce.number().int().min(1).max(65535);
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.join(' or ')}// URL`,
  );

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
// registry/path[:tag][@sha256:digest]; lower-case repository, tag of word characters, . and -.
const IMAGE_REF = /^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?(:\w[\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

export const appConfigSchema = z
  .object({
    SLUICE_API_HOST: z.string().min(1).default('127.0.0.1'),
    SLUICE_API_PORT: port.default(4400),
    DATABASE_URL: url(['postgresql:', 'postgres:']).default('postgresql://sluice@127.0.0.1:55432/sluice'),
    REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:56379'),
    KAFKA_BROKERS: z
      .string()
      .regex(
        /^\s*[^:\s,]+:\d{1,5}(\s*,\s*[^:\s,]+:\d{1,5})*\s*$/,
        'must be a comma-separated list of host:port',
      )
      .default('127.0.0.1:59092'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SLUICE_RUNTIME: z.enum(['local', 'kubernetes']).default('local'),
    /** Kubernetes runtime: namespace of the engine StatefulSets, engine image, DATABASE_URL secret, engine requests. */
    SLUICE_K8S_NAMESPACE: z
      .string()
      .max(63)
      .regex(DNS_LABEL, 'must be a DNS-1123 label (lower-case letters, digits, -)')
      .default('default'),
    SLUICE_ENGINE_IMAGE: z
      .string()
      .max(512)
      .regex(IMAGE_REF, 'must be a container image reference, e.g. ghcr.io/sluice/engine:0.1.0')
      .default('ghcr.io/sluice/engine:latest'),
    SLUICE_K8S_DATABASE_SECRET: z
      .string()
      .max(253)
      .regex(DNS_SUBDOMAIN, 'must be a Secret name (DNS-1123 subdomain)')
      .optional(),
    SLUICE_K8S_ENGINE_CPU: z
      .string()
      .regex(QUANTITY, 'must be a Kubernetes quantity, e.g. 500m or 2')
      .optional(),
    SLUICE_K8S_ENGINE_MEMORY: z
      .string()
      .regex(QUANTITY, 'must be a Kubernetes quantity, e.g. 512Mi')
      .optional(),
    SLUICE_HOME: z.string().min(1).default('.sluice'),
    /**
     * Where file sinks write under the local runtime: a spec's `sink.file.path` is relative to it
     * (default SLUICE_HOME/file-sinks). Engines get it as SLUICE_FILE_SINK_ROOT and never write
     * outside it. The Kubernetes runtime has no shared folder for it: file sinks are refused there.
     */
    SLUICE_FILE_SINK_ROOT: z.string().min(1).max(4096).optional(),
    SLUICE_BOOTSTRAP_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    /**
     * The built-in sink connection `default`: a database (and role) that owns only sink tables.
     * Never the control plane's own database — that would let a query's sink rewrite tokens.
     */
    SLUICE_SINK_DATABASE_URL: url(['postgresql:', 'postgres:']).optional(),
    /**
     * Who may create query versions with a stateful function (code the engines run, inline in
     * the spec): `admin` (default), `operator`, or `off` (refused for everyone).
     */
    SLUICE_STATEFUL_MODULES: z.enum(['admin', 'operator', 'off']).default('admin'),
    /** 32 random bytes (64 hex digits or base64) sealing sink-connection URLs stored in PostgreSQL. */
    SLUICE_SECRETS_KEY: z
      .string()
      .refine(
        (v) => secretsKeyBytes(v) !== undefined,
        'must be 32 bytes as 64 hex digits or base64 (e.g. openssl rand -hex 32)',
      )
      .optional(),
    /**
     * Who may read /metrics, which names every query and topic: `token` (any API token, viewer or
     * above; Prometheus sends it with `authorization`), `open` (no token), or `port` (only on
     * SLUICE_METRICS_HOST:SLUICE_METRICS_PORT, without a token, and not on the API port).
     */
    SLUICE_METRICS_ACCESS: z.enum(['token', 'open', 'port']).default('token'),
    SLUICE_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    SLUICE_METRICS_PORT: port.default(4402),
    SLUICE_READY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
    /** JSON array: the command that runs the engine CLI for local instances. */
    SLUICE_ENGINE_COMMAND: z
      .string()
      .refine((v) => {
        try {
          const a: unknown = JSON.parse(v);
          return Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'string');
        } catch {
          return false;
        }
      }, 'must be a JSON array of strings, e.g. ["node","engine.js"]')
      .optional(),
    SLUICE_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(200).max(600_000).default(5000),
    /**
     * Control planes that share a database and a runtime form one cluster; exactly one of them (the
     * leader) reconciles, runs operations and scales. By default the cluster is named after the
     * runtime the replicas share (the Kubernetes namespace, or the local runtime's SLUICE_HOME), so
     * control planes of different runtimes on one database never wait for each other.
     */
    SLUICE_CLUSTER_NAME: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63')
      .optional(),
    /** How often a follower tries to become leader, and a leader checks that it still is. */
    SLUICE_LEADER_RETRY_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
    /**
     * How the leader is elected: `lease` (a coordination.k8s.io Lease in SLUICE_K8S_NAMESPACE),
     * `advisory-lock` (a PostgreSQL session lock), or `auto`: the Lease with the Kubernetes runtime,
     * the advisory lock otherwise.
     */
    SLUICE_LEADER_ELECTION: z.enum(['auto', 'lease', 'advisory-lock']).default('auto'),
    /**
     * Lease election: a Lease not renewed for this long may be taken over by another replica; the
     * leader steps down when it could not renew for two thirds of it. A killed leader is replaced
     * within this plus SLUICE_LEADER_RETRY_MS.
     */
    SLUICE_LEADER_LEASE_MS: z.coerce.number().int().min(1000).max(300_000).default(10_000),
    SLUICE_OPERATION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(180_000),
    /**
     * In-place upgrades pre-start the new version beside the old one before draining it (where the
     * runtime can: local). `off` starts each successor only after its predecessor's exit, as
     * before (bench:upgrade --prestart off measures the difference).
     */
    SLUICE_UPGRADE_PRESTART: z.enum(['on', 'off']).default('on'),
    /** An instance counts as running once it has stayed up this long (catches crash-at-start). */
    SLUICE_INSTANCE_SETTLE_MS: z.coerce.number().int().min(0).max(600_000).default(3000),
    /** A running query is Stalled after no progress for 3 triggers and at least this long while behind. */
    SLUICE_STALLED_MIN_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    SLUICE_MAX_INSTANCES: z.coerce.number().int().min(1).max(1024).default(64),
    /** Progress events kept per query (newest); the leader trims the rest every trim interval. */
    SLUICE_PROGRESS_RETENTION: z.coerce.number().int().min(100).max(10_000_000).default(20_000),
    SLUICE_PROGRESS_TRIM_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
    /** Live scaling loop: tick period, minimum gap between two scale actions of one query, history read per tick. */
    SLUICE_SCALING_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(200)
      .max(600_000)
      .default(SCALING_INTERVAL_DEFAULT_MS),
    SLUICE_SCALING_COOLDOWN_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(86_400_000)
      .default(SCALE_GATE_DEFAULTS.cooldownMs),
    /** How soon a scale-up may follow a scale-up (bounded by the cooldown; scale-action.ts). */
    SLUICE_SCALING_UP_HOLD_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(86_400_000)
      .default(SCALE_GATE_DEFAULTS.upHoldMs),
    SLUICE_SCALING_WINDOW_MS: z.coerce.number().int().min(10_000).max(86_400_000).default(600_000),
    /** Built-in alerting (ARCHITECTURE.md, "Alerting"): how often the leader evaluates the rules. */
    SLUICE_ALERT_EVAL_INTERVAL_MS: z.coerce.number().int().min(200).max(600_000).default(10_000),
    /**
     * Shares of the queries the interval is divided into, one pass each, spread evenly over it
     * (alerting/evaluation-shares.ts): 1, 2, 4, 8, 16, 32 or 64. Fewer are used when a pass would
     * come less than 250 ms after the last, or the interval does not divide into whole ms.
     */
    SLUICE_ALERT_EVAL_SHARES: z.coerce
      .number()
      .int()
      // The divisors of the evaluator's 64 version buckets (evaluation-shares.spec.ts checks it).
      .refine((n) => n >= 1 && n <= 64 && (n & (n - 1)) === 0, {
        message: 'must be 1, 2, 4, 8, 16, 32 or 64',
      })
      .default(8),
    /**
     * Key receivers' HMAC-SHA256 signing secrets are derived from (each receiver's secret is
     * HMAC(key, receiver id and version), shown once when the receiver is created). At least 32
     * characters. Without it, receivers cannot be created and this process sends no notification.
     */
    SLUICE_ALERT_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').max(512).optional(),
    /**
     * Allow-list of receiver hosts, comma-separated: exact names/addresses or `*.example.com`.
     * When set, a receiver whose URL names another host is refused (422) and never called, so the
     * control plane cannot be made to send requests to internal addresses.
     */
    SLUICE_ALERT_RECEIVER_HOSTS: z
      .string()
      .max(4096)
      .regex(
        /^\s*[A-Za-z0-9*.:[\]-]+(\s*,\s*[A-Za-z0-9*.:[\]-]+)*\s*$/,
        'must be a comma-separated list of host names',
      )
      .optional(),
    /** First retry delay of a failed notification (doubles per attempt) and the number of attempts. */
    SLUICE_ALERT_RETRY_BASE_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
    SLUICE_ALERT_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(20),
    /**
     * A delivery whose attempts all failed is `deferred`, not given up: it gets a new round of
     * attempts this long after the last one, again and again, until its receiver answers or is
     * deleted (a receiver that is down delays a notification, never loses it).
     */
    SLUICE_ALERT_DEFERRED_RETRY_MS: z.coerce.number().int().min(1000).max(86_400_000).default(300_000),
    /** Base URL of the dashboard, for the link to the query in every alert's annotations. */
    SLUICE_DASHBOARD_URL: url(['http:', 'https:']).default('http://127.0.0.1:4401'),
    /** JSON object of per-policy settings (@sluice/scaling PolicySettings), e.g. {"sluice":{"downHoldSeconds":60}}. */
    SLUICE_SCALING_POLICY_SETTINGS: z
      .string()
      .superRefine((v, ctx) => {
        let settings: unknown;
        try {
          settings = JSON.parse(v);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON: an object keyed by policy name' });
          return;
        }
        const parsed = parsePolicySettings(settings);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (c.SLUICE_SINK_DATABASE_URL && sameDatabase(c.SLUICE_SINK_DATABASE_URL, c.DATABASE_URL)) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLUICE_SINK_DATABASE_URL'],
        message: "must not be the control plane's own database (DATABASE_URL): sinks would reach its tables",
      });
    }
    // The reconciler's checkpoint location is a path on this machine; engine pods can only keep
    // their checkpoints in PostgreSQL, reached through the secret's DATABASE_URL.
    // The leader renews every SLUICE_LEADER_RETRY_MS and steps down after 2/3 of the lease without a
    // renewal: at least two tries must fit in that window, or one slow request costs the leadership.
    if (c.SLUICE_LEADER_RETRY_MS * 3 > c.SLUICE_LEADER_LEASE_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLUICE_LEADER_LEASE_MS'],
        message: `must be at least 3 × SLUICE_LEADER_RETRY_MS (${c.SLUICE_LEADER_RETRY_MS * 3} ms)`,
      });
    }
    if (c.SLUICE_LEADER_ELECTION === 'lease' && c.SLUICE_RUNTIME !== 'kubernetes') {
      ctx.addIssue({
        code: 'custom',
        path: ['SLUICE_LEADER_ELECTION'],
        message: 'lease needs SLUICE_RUNTIME=kubernetes (the Lease lives in SLUICE_K8S_NAMESPACE)',
      });
    }
    if (c.SLUICE_RUNTIME === 'kubernetes' && !c.SLUICE_K8S_DATABASE_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLUICE_K8S_DATABASE_SECRET'],
        message: 'required when SLUICE_RUNTIME=kubernetes (engine pods keep checkpoints in PostgreSQL)',
      });
    }
  });

export type AppConfig = z.infer<typeof appConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/** Parses the environment; throws ConfigError naming every variable at fault. */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings mean "unset" (common in shells and Helm templates).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = appConfigSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = i.path.join('.');
        // Never echo a secret's value back into logs.
        const shown = /TOKEN|KEY|URL/.test(name) ? '' : ` (got "${String(env[name] ?? '')}")`;
        return `${name}: ${i.message}${shown}`;
      }),
    );
  }
  return parsed.data;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
