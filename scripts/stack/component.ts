// The contract each local-stack component (PostgreSQL, Redis, Kafka, the optional Kubernetes) implements.
export type ComponentState = 'up' | 'down' | 'foreign';

export interface StackComponent {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  /** Started only when named (`stack:up -- kube`), never by a plain `stack:up`; status does not require it. */
  readonly optional?: boolean;
  /** Debian packages (or other prerequisites) that are missing; empty when installed. */
  missingPackages(): string[];
  /** Fetches anything not from apt (e.g. Kafka jars). Idempotent. */
  prepare(log: (msg: string) => void): void;
  start(log: (msg: string) => void): Promise<void>;
  stop(): Promise<void>;
  /** 'foreign' = the port answers but the process is not this stack's. */
  state(): Promise<ComponentState>;
}

export class PortTakenError extends Error {
  constructor(component: string, port: number, envVar: string) {
    super(
      `port ${port} (${component}) is already in use by another process that is not Sluice's ${component}; ` +
        `stop it or choose another port with ${envVar}=<port>`,
    );
  }
}
