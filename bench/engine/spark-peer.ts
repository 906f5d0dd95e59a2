// The Apache Spark peer of `bench:engine -- --peer spark`: installs it (scripts/tools/spark-peer.sh),
// runs bench/engine/spark_peer.py on the topics Sluice read, and parses what it prints.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SparkQueryFigures {
  coldRowsPerSecond: number | null;
  warmRowsPerSecond: number | null;
  coldWallSeconds: number;
  batches: number;
  batchP50Ms: number | null;
  /** The same over the warm run's first batches (`firstBatches`: the sample of latency runs before 2026-12-05). */
  batchP50MsFirst30: number | null;
}

export interface SparkPeerResult {
  sparkVersion: string;
  runs: { stateless: SparkQueryFigures; windowed: SparkQueryFigures; latency: SparkQueryFigures };
  peakRssKiB: { jvm: number; python: number };
}

export interface SparkPeerInput {
  root: string;
  brokers: string;
  input: string;
  records: number;
  latencyInput: string;
  latencyRecords: number;
  /** How many of the warm latency run's first batches `batchP50MsFirst30` covers. */
  firstBatches: number;
  outputPrefix: string;
  log: (m: string) => void;
}

function install(root: string, log: (m: string) => void): { python: string; jars: string } {
  log('installing the Spark peer (cached after the first time)');
  const out = execFileSync('bash', [path.join(root, 'scripts/tools/spark-peer.sh')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [python, jars] = out.trim().split('\n').slice(-2);
  if (!python || !jars) throw new Error(`spark-peer.sh printed no python/jars: ${out}`);
  return { python, jars };
}

export async function runSparkPeer(input: SparkPeerInput): Promise<SparkPeerResult> {
  const { python, jars } = install(input.root, input.log);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-spark-'));
  input.log('running the same queries on Apache Spark (local[2]; several minutes)');
  const child = spawn(
    python,
    [
      path.join(input.root, 'bench/engine/spark_peer.py'),
      '--brokers',
      input.brokers,
      '--input',
      input.input,
      '--records',
      String(input.records),
      '--latency-input',
      input.latencyInput,
      '--latency-records',
      String(input.latencyRecords),
      '--first-batches',
      String(input.firstBatches),
      '--jars',
      jars,
      '--work-dir',
      workDir,
      '--output-prefix',
      input.outputPrefix,
    ],
    {
      cwd: workDir,
      // Every server Spark starts (the driver's RPC and block manager) stays on loopback.
      env: { ...process.env, SPARK_LOCAL_IP: '127.0.0.1', PYSPARK_PYTHON: python },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderrTail = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    // Spark's log is long; keep the end for the error message.
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  fs.rmSync(workDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`the Spark peer exited with ${code}:\n${stderrTail}`);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as SparkPeerResult;
}
