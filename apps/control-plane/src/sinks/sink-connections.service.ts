// Sink connections: where PostgreSQL sinks write. A query's sink names a connection (or gets the
// built-in `default`); the control plane resolves it to a URL only when it launches an engine, and
// never to its own database. This is what keeps a query author (an operator) from writing into
// the control plane's tables (tokens, audit, queries) through a sink.
import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { DEFAULT_SINK_CONNECTION, specErrorAt, type QuerySpec, type SpecError } from '@sluice/query-plan';
import type { Actor } from '../audit/actor';
import { Prisma } from '../generated/prisma/client';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { describeTarget, postgresTarget, sameDatabase } from '../config/postgres-url';
import { SecretBox, secretsKeyBytes } from '../secrets/secret-box';
import type { CreateSinkConnectionBody } from './sink-connection.dto';
import { SinkConnectionRepository, type SinkConnectionRow } from './sink-connection.repository';

export interface SinkConnectionView {
  name: string;
  kind: 'postgres';
  /** `user@host:port/database` when the URL can be resolved now; never the password. */
  target: string | null;
  source: 'built-in' | 'sealed' | 'env';
  urlEnv: string | null;
  allowSchemaQualified: boolean;
  createdAt: string | null;
  createdBy: string | null;
}

/** Thrown when a connection cannot give a URL (unknown, unset variable, wrong key). */
export class SinkConnectionUnavailable extends Error {}

/** The control plane's tables (Prisma models and the migrations ledger), lower-cased. */
const CONTROL_PLANE_TABLES = new Set(
  [...Object.values(Prisma.ModelName), '_prisma_migrations'].map((n) => n.toLowerCase()),
);

/**
 * A file sink or file source under the Kubernetes runtime, as a positioned spec error: engine pods
 * share no folder with each other or with readers and writers, so a sink's output would scatter
 * over pod-local disks that vanish with the pods, and a source's directory would be a different,
 * empty one in each pod (the instance owning the source could change to a pod that never saw a
 * file).
 */
export function fileSinkRuntimeError(
  spec: QuerySpec,
  specText: string,
  runtime: AppConfig['SLUICE_RUNTIME'],
) {
  if (runtime !== 'kubernetes') return undefined;
  for (const [name, source] of Object.entries(spec.sources))
    if (source.file)
      return specErrorAt(
        specText,
        ['sources', name, 'file'],
        'file sources run only under the local runtime (SLUICE_RUNTIME=local): engine pods share no folder to read from; use a kafka source',
      );
  if (!('file' in spec.sink)) return undefined;
  return specErrorAt(
    specText,
    ['sink', 'file'],
    'file sinks run only under the local runtime (SLUICE_RUNTIME=local): engine pods share no folder to write into; use a kafka or postgres sink',
  );
}

@Injectable()
export class SinkConnectionsService {
  private readonly box: SecretBox | undefined;

  constructor(
    private readonly repo: SinkConnectionRepository,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const key = config.SLUICE_SECRETS_KEY ? secretsKeyBytes(config.SLUICE_SECRETS_KEY) : undefined;
    this.box = key ? new SecretBox(key) : undefined;
  }

  async list(): Promise<SinkConnectionView[]> {
    const rows = await this.repo.list();
    return [this.builtInView(), ...rows.map((r) => this.view(r))];
  }

  async get(name: string): Promise<SinkConnectionView> {
    if (name === DEFAULT_SINK_CONNECTION) return this.builtInView();
    const row = await this.repo.findByName(name);
    if (!row) throw notFound(name);
    return this.view(row);
  }

  async create(body: CreateSinkConnectionBody, actor: Actor): Promise<SinkConnectionView> {
    if (body.url !== undefined) {
      if (!this.box) {
        throw new UnprocessableEntityException({
          code: 'SECRETS_KEY_MISSING',
          message:
            'url: storing a sink URL needs SLUICE_SECRETS_KEY on the control plane (or reference an environment variable with urlEnv)',
        });
      }
      this.assertNotControlPlane(body.url, 'url');
    }
    if (body.urlEnv !== undefined) {
      const value = process.env[body.urlEnv];
      // Registering a name that is not set yet is allowed (set it, then restart); a value that
      // points at the control plane's database is refused now and again at every launch.
      if (value) {
        if (!postgresTarget(value))
          throw invalid('urlEnv', `${body.urlEnv} does not hold a postgresql:// URL`);
        this.assertNotControlPlane(value, 'urlEnv');
      }
    }
    return this.repo.transaction(async (tx) => {
      if (await this.repo.findByName(body.name, tx)) {
        throw new ConflictException({
          code: 'SINK_CONNECTION_EXISTS',
          message: `sink connection "${body.name}" already exists`,
        });
      }
      const row = await this.repo.create(
        {
          name: body.name,
          kind: body.kind,
          urlSealed: body.url !== undefined ? this.box!.seal(body.url, body.name) : null,
          urlEnv: body.urlEnv ?? null,
          allowSchemaQualified: body.allowSchemaQualified,
          createdBy: actor.name,
        },
        tx,
      );
      const view = this.view(row);
      await this.audit.record(
        { actor, action: 'sink-connection.create', target: `sink-connection/${row.name}`, after: view },
        tx,
      );
      return view;
    });
  }

  async remove(name: string, actor: Actor): Promise<void> {
    if (name === DEFAULT_SINK_CONNECTION)
      throw invalid('name', `"${DEFAULT_SINK_CONNECTION}" is built in and cannot be deleted`);
    await this.repo.transaction(async (tx) => {
      const row = await this.repo.findByName(name, tx);
      if (!row) throw notFound(name);
      const users = await this.repo.queriesUsing(name, tx);
      if (users.length > 0) {
        throw new ConflictException({
          code: 'SINK_CONNECTION_IN_USE',
          message: `sink connection "${name}" is used by ${users.join(', ')}`,
          queries: users,
        });
      }
      await this.repo.delete(name, tx);
      await this.audit.record(
        {
          actor,
          action: 'sink-connection.delete',
          target: `sink-connection/${name}`,
          before: this.view(row),
        },
        tx,
      );
    });
  }

  /**
   * Refuses (422, positioned like a compiler error) a spec whose PostgreSQL sink names an unknown
   * connection, or a schema-qualified table that its connection does not allow, or a file sink or
   * file source on the Kubernetes runtime.
   */
  async checkSpec(spec: QuerySpec, specText: string): Promise<void> {
    const fileError = fileSinkRuntimeError(spec, specText, this.config.SLUICE_RUNTIME);
    if (fileError)
      throw new UnprocessableEntityException({
        code: 'INVALID_SPEC',
        message: `${fileError.line}:${fileError.column} ${fileError.path}: ${fileError.message}`,
        errors: [fileError],
      });
    const errors = await this.tableConnectionErrors(spec, specText);
    if (!('postgres' in spec.sink)) {
      if (errors.length > 0) throw invalidSpec(errors);
      return;
    }
    const { connection, table } = spec.sink.postgres;
    let allowSchemaQualified = false;
    if (connection === DEFAULT_SINK_CONNECTION) {
      if (!this.config.SLUICE_SINK_DATABASE_URL) {
        errors.push(
          specErrorAt(
            specText,
            ['sink', 'postgres'],
            `no default sink database is configured (SLUICE_SINK_DATABASE_URL): name a registered connection with sink.postgres.connection`,
          ),
        );
      }
    } else {
      const row = await this.repo.findByName(connection);
      if (!row)
        errors.push(
          specErrorAt(
            specText,
            ['sink', 'postgres', 'connection'],
            `unknown sink connection "${connection}" (an admin registers it: POST /api/v1/sink-connections)`,
          ),
        );
      allowSchemaQualified = row?.allowSchemaQualified ?? false;
    }
    const bare = table.split('.').at(-1)!.toLowerCase();
    if (CONTROL_PLANE_TABLES.has(bare)) {
      // Defence in depth: the sink database is not the control plane's (checked at boot and at
      // every launch), but a name that is one of its tables is refused outright, so a connection
      // misconfigured by hand still cannot be aimed at tokens, queries or the audit log.
      errors.push(
        specErrorAt(
          specText,
          ['sink', 'postgres', 'table'],
          `"${table}" is one of the control plane's own tables; choose another sink table name`,
        ),
      );
    }
    if (table.includes('.') && !allowSchemaQualified) {
      errors.push(
        specErrorAt(
          specText,
          ['sink', 'postgres', 'table'],
          `schema-qualified table "${table}" is not allowed by sink connection "${connection}"; use an unqualified name`,
        ),
      );
    }
    if (errors.length > 0) throw invalidSpec(errors);
  }

  /**
   * The tables of a stream–static join are read through the same named connections as sinks
   * (one registry, one `default`): each must exist now. Their tables are only read, so there is
   * no schema-qualification rule, but the control plane's own database is never handed out
   * (resolve() refuses it at launch as for a sink).
   */
  private async tableConnectionErrors(spec: QuerySpec, specText: string): Promise<SpecError[]> {
    const errors: SpecError[] = [];
    for (const [name, table] of Object.entries(spec.tables ?? {})) {
      if (table.connection === DEFAULT_SINK_CONNECTION) {
        if (!this.config.SLUICE_SINK_DATABASE_URL)
          errors.push(
            specErrorAt(
              specText,
              ['tables', name],
              `no default connection is configured (SLUICE_SINK_DATABASE_URL): name a registered connection with tables.${name}.connection`,
            ),
          );
      } else if (!(await this.repo.findByName(table.connection))) {
        errors.push(
          specErrorAt(
            specText,
            ['tables', name, 'connection'],
            `unknown connection "${table.connection}" (an admin registers it: POST /api/v1/sink-connections)`,
          ),
        );
      }
    }
    return errors;
  }

  /** The URL an engine of this spec writes to, or null for sinks that need none. */
  async sinkUrlFor(spec: QuerySpec): Promise<string | null> {
    if (!('postgres' in spec.sink)) return null;
    // Versions stored before connections existed have none: they meant the default.
    return this.resolve(spec.sink.postgres.connection ?? DEFAULT_SINK_CONNECTION);
  }

  /**
   * Connection name → URL for every connection the spec's `tables:` read through (the engine's
   * SLUICE_TABLE_POSTGRES_URLS); empty for a spec without tables.
   */
  async tableUrlsFor(spec: QuerySpec): Promise<Record<string, string>> {
    const urls: Record<string, string> = {};
    for (const table of Object.values(spec.tables ?? {})) {
      const name = table.connection ?? DEFAULT_SINK_CONNECTION;
      urls[name] ??= await this.resolve(name);
    }
    return urls;
  }

  /** Resolves at launch time: a changed variable or key takes effect on the next start. */
  async resolve(name: string): Promise<string> {
    let url: string | undefined;
    if (name === DEFAULT_SINK_CONNECTION) {
      url = this.config.SLUICE_SINK_DATABASE_URL;
      if (!url)
        throw new SinkConnectionUnavailable(
          'no default sink database is configured (SLUICE_SINK_DATABASE_URL)',
        );
    } else {
      const row = await this.repo.findByName(name);
      if (!row) throw new SinkConnectionUnavailable(`sink connection "${name}" does not exist`);
      url = this.urlOf(row);
    }
    // Checked again here, not only at registration: an environment variable can change.
    if (sameDatabase(url, this.config.DATABASE_URL)) {
      throw new SinkConnectionUnavailable(
        `sink connection "${name}" points at the control plane's own database; refusing to hand it to an engine`,
      );
    }
    return url;
  }

  private urlOf(row: SinkConnectionRow): string {
    if (row.urlEnv) {
      const v = process.env[row.urlEnv];
      if (!v)
        throw new SinkConnectionUnavailable(
          `sink connection "${row.name}": environment variable ${row.urlEnv} is not set on the control plane`,
        );
      return v;
    }
    if (!row.urlSealed) throw new SinkConnectionUnavailable(`sink connection "${row.name}" has no URL`);
    if (!this.box)
      throw new SinkConnectionUnavailable(
        `sink connection "${row.name}" is sealed but SLUICE_SECRETS_KEY is not set`,
      );
    try {
      return this.box.open(row.urlSealed, row.name);
    } catch {
      throw new SinkConnectionUnavailable(
        `sink connection "${row.name}" cannot be opened with this SLUICE_SECRETS_KEY (was the key changed?)`,
      );
    }
  }

  private assertNotControlPlane(url: string, field: string): void {
    if (!postgresTarget(url)) throw invalid(field, 'must be a postgresql:// URL');
    if (sameDatabase(url, this.config.DATABASE_URL)) {
      throw invalid(
        field,
        "must not be the control plane's own database: sinks would reach its tables (use a separate database and role that owns only sink tables)",
      );
    }
  }

  private builtInView(): SinkConnectionView {
    const url = this.config.SLUICE_SINK_DATABASE_URL;
    return {
      name: DEFAULT_SINK_CONNECTION,
      kind: 'postgres',
      target: url ? describeTarget(url) : null,
      source: 'built-in',
      urlEnv: 'SLUICE_SINK_DATABASE_URL',
      allowSchemaQualified: false,
      createdAt: null,
      createdBy: null,
    };
  }

  private view(row: SinkConnectionRow): SinkConnectionView {
    let target: string | null = null;
    try {
      target = describeTarget(this.urlOf(row));
    } catch {
      target = null;
    }
    return {
      name: row.name,
      kind: 'postgres',
      target,
      source: row.urlEnv ? 'env' : 'sealed',
      urlEnv: row.urlEnv,
      allowSchemaQualified: row.allowSchemaQualified,
      createdAt: row.createdAt.toISOString(),
      createdBy: row.createdBy,
    };
  }
}

const invalidSpec = (errors: SpecError[]) =>
  new UnprocessableEntityException({
    code: 'INVALID_SPEC',
    message: errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`).join('; '),
    errors,
  });
const notFound = (name: string) =>
  new NotFoundException({ code: 'NOT_FOUND', message: `sink connection "${name}" not found` });
const invalid = (field: string, message: string) =>
  new UnprocessableEntityException({
    code: 'INVALID_SINK_CONNECTION',
    message: `${field}: ${message}`,
    errors: [{ path: field, message }],
  });
