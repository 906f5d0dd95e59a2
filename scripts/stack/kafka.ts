// Apache Kafka 4 in KRaft mode (one combined broker+controller) under .sluice/kafka. The jars come
// from Maven Central through tools/kafka/pom.xml and run on the machine's Java 17.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { StackConfig } from './config';
import { PortTakenError, type ComponentState, type StackComponent } from './component';
import { waitKafkaCoordinators } from './kafka-ready';
import { commandExists, logTail, pidAlive, portOpen, readPid, run, waitFor } from './proc';

const POM = path.resolve(__dirname, '..', '..', 'tools', 'kafka', 'pom.xml');

function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(POM, 'utf8'));
  if (!m?.[1]) throw new Error(`no <kafka.version> in ${POM}`);
  return m[1];
}

function javaMajor(): number | undefined {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const m = /version "(\d+)/.exec(`${r.stderr}${r.stdout}`);
  return m?.[1] ? Number(m[1]) : undefined;
}

export class KafkaComponent implements StackComponent {
  readonly name = 'kafka';
  readonly port: number;
  readonly dataDir: string;
  private readonly root: string;
  private readonly libs: string;
  private readonly pidFile: string;

  constructor(private readonly config: StackConfig) {
    this.port = config.kafkaPort;
    this.root = path.join(config.home, 'kafka');
    this.dataDir = path.join(this.root, 'data');
    this.libs = path.join(this.root, 'libs');
    this.pidFile = path.join(this.root, 'kafka.pid');
  }

  missingPackages(): string[] {
    const missing: string[] = [];
    if (!commandExists('java') || (javaMajor() ?? 0) < 17) missing.push('openjdk-17-jre-headless');
    if (!commandExists('mvn')) missing.push('maven');
    return missing;
  }

  prepare(log: (msg: string) => void): void {
    const marker = path.join(this.libs, '.version');
    const version = kafkaVersion();
    if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === version) return;
    log(`resolving Kafka ${version} jars from Maven Central`);
    fs.rmSync(this.libs, { recursive: true, force: true });
    run('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-Dkafka.libs=${this.libs}`]);
    fs.writeFileSync(marker, `${version}\n`);
  }

  private java(mainClass: string, args: string[]): string {
    return run('java', ['-cp', path.join(this.libs, '*'), mainClass, ...args]);
  }

  private ownedPid(): number | undefined {
    const pid = readPid(this.pidFile);
    return pidAlive(pid) ? pid : undefined;
  }

  async state(): Promise<ComponentState> {
    const open = await portOpen(this.port);
    if (this.ownedPid() !== undefined) return open ? 'up' : 'down';
    return open ? 'foreign' : 'down';
  }

  private writeConfig(): string {
    const c = this.config;
    const file = path.join(this.root, 'server.properties');
    const props = {
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': `1@${c.host}:${c.kafkaControllerPort}`,
      listeners: `PLAINTEXT://${c.host}:${c.kafkaPort},CONTROLLER://${c.host}:${c.kafkaControllerPort}`,
      'advertised.listeners': `PLAINTEXT://${c.host}:${c.kafkaPort}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': this.dataDir,
      'num.partitions': '1',
      // Single node: every internal topic has one replica and an ISR of one.
      'offsets.topic.replication.factor': '1',
      'offsets.topic.num.partitions': '10',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'transaction.state.log.num.partitions': '10',
      'share.coordinator.state.topic.replication.factor': '1',
      'share.coordinator.state.topic.min.isr': '1',
      'min.insync.replicas': '1',
      'default.replication.factor': '1',
      // Tests join and leave groups constantly; do not wait 3 s before the first rebalance.
      'group.initial.rebalance.delay.ms': '0',
      'log.retention.hours': '24',
      'log.segment.bytes': String(64 * 1024 * 1024),
    };
    fs.writeFileSync(
      file,
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
    );
    fs.writeFileSync(
      path.join(this.root, 'log4j2.properties'),
      [
        'appender.out.type=Console',
        'appender.out.name=STDOUT',
        'appender.out.layout.type=PatternLayout',
        'appender.out.layout.pattern=[%d] %p %m (%c)%n',
        'rootLogger.level=WARN',
        'rootLogger.appenderRef.out.ref=STDOUT',
        'logger.server.name=kafka.server.KafkaRaftServer',
        'logger.server.level=INFO',
      ].join('\n') + '\n',
    );
    return file;
  }

  async start(log: (msg: string) => void): Promise<void> {
    const s = await this.state();
    if (s === 'up') return;
    if (s === 'foreign') throw new PortTakenError(this.name, this.port, 'SLUICE_KAFKA_PORT');
    if (await portOpen(this.config.kafkaControllerPort)) {
      throw new PortTakenError(
        'kafka controller',
        this.config.kafkaControllerPort,
        'SLUICE_KAFKA_CONTROLLER_PORT',
      );
    }
    fs.mkdirSync(this.dataDir, { recursive: true });
    const props = this.writeConfig();
    if (!fs.existsSync(path.join(this.dataDir, 'meta.properties'))) {
      log('formatting KRaft storage');
      const clusterId = this.java('kafka.tools.StorageTool', ['random-uuid']).trim();
      this.java('kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', props]);
    }
    const out = fs.openSync(path.join(this.root, 'kafka.log'), 'a');
    const child = spawn(
      'java',
      [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseG1GC',
        `-Dlog4j2.configurationFile=${path.join(this.root, 'log4j2.properties')}`,
        '-cp',
        path.join(this.libs, '*'),
        'kafka.Kafka',
        props,
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    fs.closeSync(out);
    fs.writeFileSync(this.pidFile, `${child.pid}\n`);
    child.unref();
    await waitFor('Kafka', async () => (await this.state()) === 'up', 90_000).catch((e: Error) => {
      const file = path.join(this.root, 'kafka.log');
      throw new Error(`${e.message}; the end of ${file}:\n${logTail(file)}`);
    });
    log('waiting for the group and transaction coordinators');
    await waitKafkaCoordinators(`${this.config.host}:${this.port}`, 60_000);
  }

  async stop(): Promise<void> {
    const pid = this.ownedPid();
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    await waitFor('Kafka to stop', async () => !pidAlive(pid), 60_000).catch(() =>
      process.kill(pid, 'SIGKILL'),
    );
  }
}
