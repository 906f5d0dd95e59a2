// The `sluice` binary (node apps/cli/bin/sluice.js, as `npx sluice` runs it) against a real
// control plane, real engines and Kafka, one query through its life: log in, a bad spec's
// position, deploy until RUNNING, -o json/yaml, scale with --wait, a viewer refused, exit codes,
// progress --follow ended by Ctrl-C, diff, alerts, upgrade (report, --yes, exit 3), rollback,
// a stop whose wait is interrupted and resumed, start with events --follow, versions and delete.
// On a real pseudo-terminal (support/terminal.ts): the hidden token prompt of login, context use,
// the upgrade's y/N answered both ways and its live step display. A second query whose rate
// limit is lowered below its input fires a timeLag alert that `alerts ack` acknowledges.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  createToken,
  eventsSpec,
  forgetQueries,
  produceEvents,
  sluice,
  spawnSluice,
  startControlPlane,
  type CliResult,
  type ControlPlane,
} from './support/cli-stack';
import { plainText, Terminal } from './support/terminal';

const suffix = randomUUID().slice(0, 8);
const name = `cli-it-${suffix}`;
const topic = `cli-it-in-${suffix}`;
let cp: ControlPlane;
let dir: string;
let env: NodeJS.ProcessEnv;
let viewerToken: string;
let adminToken: string;
let specFile: string;

interface QueryJson {
  name: string;
  phase: string;
  desired: { instances: number };
  observed: { runningInstances: number };
}

/** The query's spec with another filter (allowed in place) or another source topic (not). */
function variant(file: string, opts: { threshold: number; topic?: string }): string {
  const text = eventsSpec(name, opts.topic ?? topic, `cli-it-out-${suffix}`).replace(
    'amount > 10',
    `amount > ${opts.threshold}`,
  );
  const p = path.join(dir, file);
  fs.writeFileSync(p, text);
  return p;
}

const desiredVersion = async () =>
  (
    JSON.parse((await sluice(['queries', 'get', name, '-o', 'json'], env)).stdout) as {
      desired: { version: number };
    }
  ).desired.version;

beforeAll(async () => {
  // Independent set-up, done together: records, the control plane, two tokens made offline.
  [, cp, adminToken, viewerToken] = await Promise.all([
    produceEvents(topic, 200),
    startControlPlane(),
    createToken('admin', `cli-it-admin-${suffix}`),
    createToken('viewer', `cli-it-viewer-${suffix}`),
  ]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-it-'));
  env = { XDG_CONFIG_HOME: path.join(dir, 'xdg') };
  specFile = path.join(dir, 'query.yaml');
  fs.writeFileSync(specFile, eventsSpec(name, topic, `cli-it-out-${suffix}`));
  const login = await sluice(
    ['login', '--url', cp.base, '--token-stdin', '--name', 'it'],
    env,
    `${adminToken}\n`,
  );
  expect(login.stderr).toBe('');
  expect(login.code).toBe(0);
  alertPrep = prepareAlerting();
  alertPrep.catch(() => undefined); // its test awaits it and reports a failure
});

afterAll(async () => {
  await stopProducing();
  await cp?.stop();
  await forgetQueries(suffix);
  const { Pool } = await import('pg');
  const pool = new Pool({ connectionString: process.env.DATABASE_URL });
  await pool.query(`DELETE FROM "AlertRule" WHERE name = $1`, [rule]);
  await pool.end();
});

describe('sluice against a real control plane', () => {
  it('stores the login in a 0600 config file and lists it as the current context', async () => {
    const file = path.join(env.XDG_CONFIG_HOME!, 'sluice', 'config.yaml');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const config = YAML.parse(fs.readFileSync(file, 'utf8')) as { 'current-context': string };
    expect(config['current-context']).toBe('it');
    const listed = await sluice(['context'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(adminToken); // only the token's first characters
    expect(listed.stdout).toMatch(new RegExp(`^\\*\\s+it\\s+${cp.base.replace(/\./g, '\\.')}`, 'm'));
  });

  it('refuses an invalid spec with exit 1, FILE:LINE:COL, the line and a caret', async () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, fs.readFileSync(specFile, 'utf8').replace('WHERE amount', 'WHERE amout'));
    const runs = await Promise.all([
      sluice(['queries', 'deploy', '-f', bad, '--wait'], env), // the API's 422
      sluice(['queries', 'validate', '-f', bad], env), // compiled locally
    ]);
    for (const r of runs) {
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`${bad}:7:47 `));
      expect(at).toBeGreaterThanOrEqual(0);
      expect(lines[at]).toContain('unknown column "amout"');
      expect(lines[at + 1]).toBe('  sql: SELECT user_id, amount FROM events WHERE amout > 10');
      expect(lines[at + 2]).toBe(`  ${' '.repeat(46)}^`);
    }
  });

  it('deploys a spec and waits until the query is RUNNING', async () => {
    const r = await sluice(['queries', 'deploy', '-f', specFile, '--wait'], env);
    expect(r.stderr).toContain(`registered query "${name}"`);
    expect(r.code).toBe(0);
    // Not a terminal: one plain line per step, ending with the operation's success.
    expect(r.stderr).toMatch(/^deploy [0-9a-f]{8}: start instances: done$/m);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^deploy [0-9a-f]{8}: succeeded$/);
    // The operation succeeded only once the reconciler saw the query RUNNING. A read right after
    // can still find DEPLOYING: CI once did (a fresh engine that dies is restarted at once, and the
    // query reads DEPLOYING until it runs again), so the read is repeated, and what the first one
    // saw is printed with its conditions to tell the cause next time.
    const read = async () => {
      const got = await sluice(['queries', 'get', name, '-o', 'json'], env);
      expect(got.code).toBe(0);
      return JSON.parse(got.stdout) as QueryJson & { conditions?: unknown };
    };
    const first = await read();
    expect(first.name).toBe(name);
    if (first.phase !== 'RUNNING') console.warn(`after deploy --wait: ${JSON.stringify(first)}`);
    await expect.poll(async () => (await read()).phase, { timeout: 30_000, interval: 500 }).toBe('RUNNING');
  });

  it('login on a terminal reads the token with echo off; context use switches which token is sent', async () => {
    // Ctrl-C at the prompt: 130, nothing stored.
    const cancelled = new Terminal(['login', '--url', cp.base, '--name', 'viewer'], env);
    try {
      await cancelled.waitFor('API token (input hidden): ');
      cancelled.type('abc\x03');
      expect(await cancelled.exited).toBe(130);
    } finally {
      cancelled.close();
    }
    expect(plainText(cancelled.output)).toBe(
      'API token (input hidden): \nerror: cancelled; nothing was changed\n',
    );
    const t = new Terminal(['login', '--url', cp.base, '--name', 'viewer'], env);
    try {
      await t.waitFor('API token (input hidden): ');
      // A slip corrected with backspace: the token sent is the one meant.
      t.type(`${viewerToken}x\x7f\r`);
      expect(await t.exited).toBe(0);
    } finally {
      t.close();
    }
    const shown = plainText(t.output);
    expect(shown).not.toContain(viewerToken.slice(0, 8)); // not echoed, not even in part
    expect(shown).toContain(`logged in to ${cp.base} as context "viewer"`);
    // The new context is current: admin-only requests go with the viewer token and are refused.
    const asViewer = await sluice(['tokens', 'list'], env);
    expect(asViewer.code).toBe(1);
    expect(asViewer.stderr).toMatch(/needs role admin; token "cli-it-viewer-[0-9a-f]+" has viewer$/m);
    const [used, unknown] = await Promise.all([
      sluice(['context', 'use', 'it'], env),
      sluice(['context', 'use', `nope-${suffix}`], env),
    ]);
    expect(used.stdout).toBe('switched to context "it"\n');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`no context named "nope-${suffix}" (known: it, viewer)`);
    const [listed, asAdmin] = await Promise.all([sluice(['context'], env), sluice(['tokens', 'list'], env)]);
    expect(listed.stdout).toMatch(/^\*\s+it\s/m);
    expect(listed.stdout).toMatch(/^\s+viewer\s/m);
    expect(asAdmin.code, asAdmin.stderr).toBe(0);
    expect(asAdmin.stdout).toContain(`cli-it-viewer-${suffix}`);
  });

  it('prints JSON and YAML that parse, and a table for people', async () => {
    // Independent runs, started together (each is a node process starting up).
    const [json, yaml, table] = await Promise.all([
      sluice(['-o', 'json', 'queries', 'list'], env),
      sluice(['queries', 'list', '-o', 'yaml'], env),
      sluice(['queries', 'list'], env),
    ]);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as QueryJson[]).map((q) => q.name)).toContain(name);
    expect((YAML.parse(yaml.stdout) as QueryJson[]).map((q) => q.name)).toContain(name);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+DESIRED\s+VERSION\s+INSTANCES/);
    expect(table.stdout).toMatch(new RegExp(`^${name}\\s+RUNNING\\s+RUNNING\\s+1\\s+1\\s`, 'm'));
  });

  it('scales with --wait: the command returns once both instances run', async () => {
    const r = await sluice(['queries', 'scale', name, '2', '--wait', '-o', 'json'], env);
    expect(r.code).toBe(0);
    const op = JSON.parse(r.stdout) as { type: string; state: string };
    expect(op).toMatchObject({ type: 'scale', state: 'SUCCEEDED' });
    const q = JSON.parse((await sluice(['queries', 'get', name, '-o', 'json'], env)).stdout) as QueryJson;
    expect(q.desired.instances).toBe(2);
    expect(q.observed.runningInstances).toBe(2);
  });

  it('cpu-limit sets and removes the CPU limit per instance; deploy --cpu-limit registers a limited query; bad values exit 2', async () => {
    const set = await sluice(['queries', 'cpu-limit', name, '250m', '-o', 'json'], env);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ cpuLimit: 0.25 });
    const human = await sluice(['queries', 'cpu-limit', name, 'none'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`${name}: no CPU limit`);
    const [tooBig, words] = await Promise.all([
      sluice(['queries', 'cpu-limit', name, '65'], env),
      sluice(['queries', 'deploy', '-f', specFile, '--cpu-limit', 'half'], env),
    ]);
    for (const r of [tooBig, words]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cpuLimit .*0\.01 to 64/);
    }
    // A second query, registered limited and not started (no engines).
    const other = `${name}-cpu`;
    const otherFile = path.join(path.dirname(specFile), 'limited.yaml');
    fs.writeFileSync(otherFile, eventsSpec(other, topic, `cli-it-out-${suffix}`));
    const deployed = await sluice(
      ['queries', 'deploy', '-f', otherFile, '--cpu-limit', '0.5', '--no-start'],
      env,
    );
    expect(deployed.code).toBe(0);
    const q = JSON.parse((await sluice(['queries', 'get', other, '-o', 'json'], env)).stdout) as {
      id: string;
      desired: { state: string };
    };
    const scaling = await fetch(`${cp.base}/api/v1/queries/${q.id}/scaling`, {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    expect(((await scaling.json()) as { cpuLimit: number | null }).cpuLimit).toBe(0.5);
    expect(q.desired.state).not.toBe('RUNNING');
  });

  it('refuses a viewer token with the role it needs, exit 1 (SLUICE_URL/SLUICE_TOKEN override the file)', async () => {
    const r = await sluice(['queries', 'scale', name, '1', '--wait'], {
      ...env,
      SLUICE_URL: cp.base,
      SLUICE_TOKEN: viewerToken,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: permission denied: this action needs role operator; token "cli-it-viewer-[0-9a-f]+" has viewer$/m,
    );
  });

  it('exits 4 for an unknown query, 3 for a refusal, 2 for a usage error', async () => {
    const [missing, exists, usage] = await Promise.all([
      sluice(['queries', 'get', `nope-${suffix}`], env),
      sluice(['queries', 'deploy', '-f', specFile], env),
      sluice(['queries', 'scale', name, 'two'], env),
    ]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`no query named "nope-${suffix}"`);
    expect(exists.code).toBe(3);
    expect(exists.stderr).toContain(`sluice queries upgrade`);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('instances must be a whole number');
  });

  it('progress --follow prints progress events as they come and exits 0 on Ctrl-C', async () => {
    const child = spawnSluice(['progress', name, '--follow'], env);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Two rows: the header, then one event of one of the instances (batches run every 500 ms).
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (new RegExp(`^\\s*\\d+\\s+\\S+\\s+${name}-[01]\\s`, 'm').test(out)) resolve();
      });
      void exited.then(() => reject(new Error(`exited early: ${err}`)));
    });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^BATCH\s+TIME\s+INSTANCE\s+ROWS/);
    expect(err).toBe('');
  });

  it('diff shows what changed in the spec text and whether the new version may resume', async () => {
    const id = (
      JSON.parse((await sluice(['queries', 'get', name, '-o', 'json'], env)).stdout) as { id: string }
    ).id;
    const v2 = fs.readFileSync(specFile, 'utf8').replace('amount > 10', 'amount > 20');
    const added = await fetch(`${cp.base}/api/v1/queries/${id}/versions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/yaml' },
      body: v2,
    });
    expect(added.status).toBe(201);
    const [text, json, missing] = await Promise.all([
      sluice(['queries', 'diff', name, '--from', '1', '--to', '2'], env),
      sluice(['queries', 'diff', name, '--from', '1', '--to', '2', '-o', 'json'], env),
      sluice(['queries', 'diff', name, '--from', '1', '--to', '9'], env),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('-sql: SELECT user_id, amount FROM events WHERE amount > 10\n');
    expect(text.stdout).toContain('+sql: SELECT user_id, amount FROM events WHERE amount > 20\n');
    expect(text.stdout).toContain('version 2 against version 1: compatible');
    expect(text.stdout).toMatch(/^allowed\s+filter\s+sql\s/m);
    expect(JSON.parse(json.stdout)).toMatchObject({
      from: 1,
      to: 2,
      compatibility: { against: 1, compatible: true },
    });
    expect(missing.code).toBe(4);
  });

  it("lists alerts, silences a query's alerts and names an unknown alert with exit 4", async () => {
    const [list, silence, unknown, nothing] = await Promise.all([
      sluice(['alerts', 'list', '--query', name, '-o', 'json'], env),
      sluice(['alerts', 'silence', '--query', name, '--duration', '1h', '--comment', 'cli test'], env),
      sluice(['alerts', 'ack', randomUUID()], env),
      sluice(['alerts', 'silence', '--duration', '1h', '--comment', 'what?'], env),
    ]);
    expect(list.code).toBe(0);
    expect(Array.isArray(JSON.parse(list.stdout))).toBe(true);
    expect(silence.code, silence.stderr).toBe(0);
    const silenceId = /^silence (\S+) active until /m.exec(silence.stdout)?.[1];
    const stored = (await (
      await fetch(`${cp.base}/api/v1/silences/${silenceId}`, {
        headers: { Authorization: `Bearer ${adminToken}` },
      })
    ).json()) as { comment: string; matchers: Array<{ name: string; value: string }> };
    expect(stored.comment).toBe('cli test');
    expect(stored.matchers).toEqual([expect.objectContaining({ name: 'query', value: name })]);
    expect(unknown.code).toBe(4);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('say what to silence');
  });

  it('shows lag, operations (list and get), stored progress and audit, and creates, lists and revokes a token', async () => {
    const id = (
      JSON.parse((await sluice(['queries', 'get', name, '-o', 'json'], env)).stdout) as { id: string }
    ).id;
    const [lag, events, audit, created] = await Promise.all([
      sluice(['lag', name, '-o', 'json'], env),
      sluice(['events', name, '-o', 'json'], env),
      sluice(['audit', '--target', `query/${id}`, '-o', 'json'], env),
      sluice(['tokens', 'create', '--name', `cli-it-made-${suffix}`, '--role', 'viewer'], env),
    ]);
    expect((JSON.parse(lag.stdout) as { partitions: unknown[] }).partitions).toHaveLength(2);
    expect((JSON.parse(events.stdout) as Array<{ type: string }>).map((o) => o.type)).toEqual(
      expect.arrayContaining(['deploy', 'scale']),
    );
    expect((JSON.parse(audit.stdout) as Array<{ action: string }>).map((a) => a.action)).toContain(
      'query.create',
    );
    const deployOp = (JSON.parse(events.stdout) as Array<{ id: string; type: string }>).find(
      (o) => o.type === 'deploy',
    )!;
    const [opGet, stored] = await Promise.all([
      sluice(['operations', 'get', deployOp.id, '-o', 'json'], env),
      sluice(['progress', name, '--limit', '3', '-o', 'json'], env),
    ]);
    expect(JSON.parse(opGet.stdout)).toMatchObject({ id: deployOp.id, type: 'deploy', state: 'SUCCEEDED' });
    const batches = JSON.parse(stored.stdout) as Array<{ batchId: number }>;
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThanOrEqual(3);
    // The secret alone on stdout (T=$(sluice tokens create ...)), the rest on stderr.
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toMatch(/^\S{20,}$/);
    const tokenId = /\(([0-9a-f-]{36})\)/.exec(created.stderr)![1]!;
    const revoked = await sluice(['tokens', 'revoke', tokenId], env);
    expect(revoked.stdout).toBe(`revoked token "cli-it-made-${suffix}" (${tokenId})\n`);
    const tokens = JSON.parse((await sluice(['tokens', 'list', '-o', 'json'], env)).stdout) as Array<{
      id: string;
      revokedAt: string | null;
    }>;
    expect(tokens.find((t) => t.id === tokenId)?.revokedAt).not.toBeNull();
  });

  it('upgrade without a terminal and without --yes exits 2 before storing a version', async () => {
    const r = await sluice(['queries', 'upgrade', name, '-f', variant('v3.yaml', { threshold: 30 })], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('add --yes');
    const versions = JSON.parse(
      (await sluice(['queries', 'versions', name, '-o', 'json'], env)).stdout,
    ) as unknown[];
    expect(versions).toHaveLength(2); // version 1 and the one the diff test added
  });

  it('upgrade prints the compatibility report, then upgrades with --yes --wait', async () => {
    const r = await sluice(
      ['queries', 'upgrade', name, '-f', variant('v3.yaml', { threshold: 30 }), '--yes', '--wait'],
      env,
    );
    expect(r.stderr).toContain('version 3 against version 1: compatible');
    expect(r.stderr).toMatch(/^upgrade [0-9a-f]{8}: health gate: done/m);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^upgrade [0-9a-f-]{36} succeeded$/m);
    expect(await desiredVersion()).toBe(3);
  });

  it('refuses an incompatible in-place upgrade with exit 3 and the incompatible change', async () => {
    const other = variant('v4.yaml', { threshold: 30, topic: `cli-it-other-${suffix}` });
    const r = await sluice(['queries', 'upgrade', name, '-f', other, '--yes'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('version 4 against version 3: INCOMPATIBLE');
    expect(r.stderr).toMatch(/^incompatible\s+source\.topic\s+sources\.events\.kafka\.topic\s/m);
    expect(r.stderr).toContain('--strategy new-checkpoint');
    expect(await desiredVersion()).toBe(3);
  });

  it('rolls back to the good version before with --yes --wait', async () => {
    const r = await sluice(['queries', 'rollback', name, '--yes', '--wait', '-o', 'json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'SUCCEEDED' });
    expect(await desiredVersion()).toBe(1);
  });

  it('upgrade on a terminal shows the report and asks: n deploys nothing, y deploys with a live step display', async () => {
    const no = new Terminal(['queries', 'upgrade', name, '-f', variant('v5.yaml', { threshold: 40 })], env);
    try {
      await no.waitFor(/deploy version 5 \(in-place, against version \d+\)\? \[y\/N\] $/);
      expect(plainText(no.output)).toMatch(/^version 5 against version \d+: compatible/m);
      no.type('n\r');
      expect(await no.exited).toBe(1);
    } finally {
      no.close();
    }
    expect(plainText(no.output)).toContain('n\nerror: cancelled; version 5 is stored but not deployed\n');
    expect(await desiredVersion()).toBe(1);

    const yes = new Terminal(['queries', 'upgrade', name, '-f', variant('v6.yaml', { threshold: 40 })], env);
    try {
      await yes.waitFor('[y/N] ');
      yes.type('y\r');
      expect(await yes.exited).toBe(0);
    } finally {
      yes.close();
    }
    // On a terminal it waits without --wait, redrawing the step list in place (cursor up, clear).
    const redraws = yes.output.split(/\x1b\[\d+A\r\x1b\[J/);
    expect(redraws.length).toBeGreaterThanOrEqual(2);
    // The last frame, as the user is left with it: every step ticked, then the result line.
    const last = plainText(redraws.at(-1)!).trimEnd().split('\n');
    expect(last[0]).toMatch(/^upgrade [0-9a-f]{8} {2}succeeded {2}100%$/);
    const steps = last.slice(1, -1);
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const step of steps) expect(step).toMatch(/^ {2}✓ \S/);
    expect(steps.some((l) => l.startsWith('  ✓ health gate'))).toBe(true);
    expect(last.at(-1)).toMatch(/^upgrade [0-9a-f-]{36} succeeded$/);
    expect(await desiredVersion()).toBe(6);
  });

  it('Ctrl-C while waiting for stop ends the wait (130), not the stop; operations wait resumes it', async () => {
    const child = spawnSluice(['queries', 'stop', name, '--wait'], env);
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (/^stop [0-9a-f]{8}: /m.test(err)) resolve();
      });
      void exited.then(() => reject(new Error(`exited before following: ${err}`)));
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toMatch(/stopped waiting; operation [0-9a-f-]{36} \(stop\) goes on in the control plane/);
    const opId = /operation ([0-9a-f-]{36}) \(stop\)/.exec(err)![1]!;
    const waited = await sluice(['operations', 'wait', opId, '-o', 'json'], env);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ id: opId, type: 'stop', state: 'SUCCEEDED' });
    const q = JSON.parse((await sluice(['queries', 'get', name, '-o', 'json'], env)).stdout) as QueryJson;
    expect(q.phase).toBe('STOPPED');
  });

  it('start --wait runs the stopped query again while events --follow shows it live; Ctrl-C ends the follow with 0', async () => {
    const follow = spawnSluice(['events', name, '--follow'], env);
    let out = '';
    let err = '';
    follow.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => follow.once('exit', (code) => resolve(code)));
    const shows = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => pattern.test(out) && resolve();
        follow.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          check();
        });
        check();
        void exited.then(() => reject(new Error(`events --follow exited early: ${err}`)));
      });
    // The stream's first event is the query's status: from then on the follow is connected.
    await shows(/ status {4}STOPPED /);
    const started = await sluice(['queries', 'start', name, '--wait'], env);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr.trimEnd().split('\n').at(-1)).toMatch(/^start [0-9a-f]{8}: succeeded$/);
    await shows(/ operation start succeeded 100%/);
    follow.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/^\d{4}-\d\d-\d\dT\S+ operation start running \d+%/m);
    const q = JSON.parse((await sluice(['queries', 'get', name, '-o', 'json'], env)).stdout) as QueryJson;
    expect(q.phase).toBe('RUNNING');
  });

  it('versions lists every stored version, oldest first', async () => {
    const [table, json] = await Promise.all([
      sluice(['queries', 'versions', name], env),
      sluice(['queries', 'versions', name, '-o', 'json'], env),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+PLAN HASH\s+CREATED\s+BY$/);
    expect(lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines[1]).toMatch(new RegExp(`^\\s*1\\s+[0-9a-f]{12}\\s+\\d{4}-\\S+\\s+cli-it-admin-${suffix}$`));
    expect((JSON.parse(json.stdout) as Array<{ version: number }>).map((v) => v.version)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
  });

  it('delete asks first (exit 2 with no terminal and no --yes), then drains and deletes with --yes --wait', async () => {
    const refused = await sluice(['queries', 'delete', name], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('add --yes');
    expect((await sluice(['queries', 'get', name], env)).code).toBe(0);
    const deleted = await sluice(['queries', 'delete', name, '--yes', '--wait'], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr.trimEnd().split('\n').at(-1)).toMatch(/^delete [0-9a-f]{8}: succeeded$/);
    const gone = await sluice(['queries', 'get', name], env);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain(`no query named "${name}"`);
  });
});

// The alert block's query (independent of the first block's) deploys and gets its low rate limit
// while the first block runs: its backlog needs most of a minute to make the alert fire.
const alerting = `cli-it-alert-${suffix}`;
const alertTopic = `cli-it-alert-in-${suffix}`;
const rule = `CliItTimeLag_${suffix}`;
let alertPrep: Promise<{ deployed: CliResult; limited: CliResult }>;
let stopProducing = async () => {};

async function prepareAlerting(): Promise<{ deployed: CliResult; limited: CliResult }> {
  // ~100 records/s until the end: the input the rate limit is lowered below.
  const kafka = createKafka({
    brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
    clientId: 'cli-it-alert',
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: alertTopic, numPartitions: 1 }]);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  let n = 0;
  const producing = setInterval(() => {
    const messages = Array.from({ length: 10 }, () => ({
      value: JSON.stringify({ user_id: `u${n % 7}`, amount: n++ }),
    }));
    producer.send({ topic: alertTopic, messages }).catch(() => undefined);
  }, 100);
  stopProducing = async () => {
    clearInterval(producing);
    await producer.disconnect();
  };
  // A rule quick to fire (the built-in ones wait minutes), evaluated by this control plane only.
  const created = await fetch(`${cp.base}/api/v1/alert-rules`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: rule,
      kind: 'timeLag',
      params: { thresholdSeconds: 3 },
      forSeconds: 3,
      severity: 'warning',
      annotations: { summary: '{{ $labels.query }} is {{ $value }} s behind' },
      queries: [alerting],
      cluster: cp.cluster,
    }),
  });
  if (created.status !== 201) throw new Error(`alert rule not created: ${await created.text()}`);
  const specPath = path.join(dir, 'alerting.yaml');
  fs.writeFileSync(
    specPath,
    eventsSpec(alerting, alertTopic, `cli-it-alert-out-${suffix}`)
      .replace('startingOffsets: earliest', 'startingOffsets: latest')
      .replace('500 milliseconds', '1 second'),
  );
  // The admin token named outright: the first block switches the current context meanwhile.
  const asAdmin = { ...env, SLUICE_URL: cp.base, SLUICE_TOKEN: adminToken };
  const deployed = await sluice(['queries', 'deploy', '-f', specPath, '--wait'], asAdmin);
  // The CLI repeats GETs answered 503, never a change. Setting a rate limit is idempotent, so it is
  // asked again when the control plane said "try again shortly" (its database slow on a loaded box).
  let limited = await sluice(['queries', 'rate-limit', alerting, '10', '--wait'], asAdmin);
  for (let i = 0; i < 3 && limited.code === 1 && limited.stderr.includes('try again shortly'); i++)
    limited = await sluice(['queries', 'rate-limit', alerting, '10', '--wait'], asAdmin);
  return { deployed, limited };
}

describe('a real firing alert, through the CLI', () => {
  it('rate-limit below the input makes timeLag fire; alerts ack acknowledges it; rate-limit none lifts the limit', async () => {
    const { deployed, limited } = await alertPrep;
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(limited.code, limited.stderr).toBe(0);
    expect(limited.stderr.trimEnd().split('\n').at(-1)).toMatch(/^rate-limit [0-9a-f]{8}: succeeded$/);
    const got = JSON.parse((await sluice(['queries', 'get', alerting, '-o', 'json'], env)).stdout) as {
      desired: { rateLimit: number | null };
    };
    expect(got.desired.rateLimit).toBe(10);

    // 10 records a second against ~100 coming in: the backlog grows by ~90 a second. Once it is
    // well past what the engine's start leaves behind, the oldest unread record is older than
    // 3 s for good: the alert goes pending, then fires after `for` (3 s).
    type AlertJson = { id: string; state: string; rule: string; query: string; acknowledged: unknown };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const deadline = Date.now() + 100_000;
    for (;;) {
      const lag = await sluice(['lag', alerting, '-o', 'json'], env);
      expect(lag.code, lag.stderr).toBe(0);
      if ((JSON.parse(lag.stdout) as { totalRecordsBehind: number }).totalRecordsBehind > 500) break;
      if (Date.now() > deadline) throw new Error(`the backlog did not grow: ${lag.stdout}`);
      await sleep(1000);
    }
    let firing: AlertJson | undefined;
    let acked: Awaited<ReturnType<typeof sluice>> | undefined;
    while (!acked) {
      const listed = await sluice(['alerts', 'list', '--query', alerting, '--rule', rule, '-o', 'json'], env);
      expect(listed.code, listed.stderr).toBe(0);
      firing = (JSON.parse(listed.stdout) as AlertJson[]).find((a) => a.state === 'firing');
      if (firing) {
        expect(firing.acknowledged).toBeNull();
        const r = await sluice(['alerts', 'ack', firing.id, '--comment', 'cli test: looking'], env);
        // An episode of the engine's start may resolve between the list and the ack: refused
        // (exit 3), and the limited backlog makes it fire again.
        if (r.code === 3) expect(r.stderr).toContain('only a firing alert can be acknowledged');
        else acked = r;
      }
      if (!acked && Date.now() > deadline)
        throw new Error(`no firing alert to acknowledge: ${listed.stdout}`);
      if (!acked) await sleep(1000);
    }
    expect(acked.code, acked.stderr).toBe(0);
    expect(acked.stdout).toBe(`acknowledged alert ${firing!.id} (${rule} on ${alerting})\n`);
    const table = await sluice(['alerts', 'list', '--query', alerting, '--rule', rule], env);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^STATE\s+RULE\s+QUERY\s+SEVERITY\s+VALUE\s+SINCE\s+SILENCED\s+ACKED BY\s+ID$/,
    );
    expect(table.stdout).toMatch(
      new RegExp(
        `^firing\\s+${rule}\\s+${alerting}\\s+warning\\s+\\S+\\s+\\S+\\s+cli-it-admin-${suffix}\\s+${firing!.id}$`,
        'm',
      ),
    );

    const lifted = await sluice(['queries', 'rate-limit', alerting, 'none', '--wait', '-o', 'json'], env);
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(JSON.parse(lifted.stdout)).toMatchObject({ type: 'rate-limit', state: 'SUCCEEDED' });
    const after = JSON.parse((await sluice(['queries', 'get', alerting, '-o', 'json'], env)).stdout) as {
      desired: { rateLimit: number | null };
    };
    expect(after.desired.rateLimit).toBeNull();
    const deleted = await sluice(['queries', 'delete', alerting, '--yes', '--wait'], env);
    expect(deleted.code, deleted.stderr).toBe(0);
  });
});
