/**
 * The servers that open the engine to other processes, started the same way by both
 * shells: the inference API over HTTP/REST (the Open Inference Protocol, port 8000 by
 * default) and the Prometheus metrics (port 8002), both behind the token. What they
 * serve and how busy they are is what the Endpoints page shows.
 */
import { InferenceGrpcServer } from '../inference/grpc/inference-grpc-server.js';
import { InferenceHttpServer, resolveLimits, type HttpLimits } from '../inference/inference-http-server.js';
import { InferenceService } from '../inference/inference-service.js';
import type { ProtocolTraffic } from '../inference/protocol-traffic.js';
import { SharedMemoryRegions } from '../inference/shm/shared-memory-regions.js';
import { SwitchboardMetrics } from '../metrics/metrics-registry.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { ListenError } from '../server/listen.js';
import { TokenAuth } from '../server/token-auth.js';
import { resolveToken } from '../server/token-source.js';
import { SWITCHBOARD_VERSION } from '../version.js';
import type { EndpointsSnapshot } from '../../src-preload/wire.js';
import type { SwitchboardHost } from './switchboard-host.js';

export interface ProtocolServersOptions {
  readonly auth: TokenAuth;
  /** Loopback unless the operator says otherwise (the shells warn beyond it). */
  readonly bindAddress: string;
  /** The inference API's port (0: any free one); undefined: no inference API. */
  readonly httpPort: number | undefined;
  /** The inference API's gRPC port (0: any free one); undefined: no gRPC. */
  readonly grpcPort?: number;
  readonly limits?: Partial<HttpLimits>;
  /** The metrics' port (0: any free one); undefined: no metrics endpoint. */
  readonly metricsPort: number | undefined;
  readonly metricsPublic?: boolean;
  readonly log: (message: string) => void;
}

export class ProtocolServers {
  private constructor(
    readonly service: InferenceService,
    readonly http: InferenceHttpServer | undefined,
    readonly grpc: InferenceGrpcServer | undefined,
    readonly metrics: MetricsServer | undefined,
    private readonly registry: SwitchboardMetrics,
    private readonly options: ProtocolServersOptions,
  ) {}

  /** Start what the options ask for; if one cannot listen, stop what started and throw its ListenError. */
  static async start(host: SwitchboardHost, options: ProtocolServersOptions): Promise<ProtocolServers> {
    const service = new InferenceService(host.engine, host.coordinator, SWITCHBOARD_VERSION, new SharedMemoryRegions());
    const http =
      options.httpPort === undefined
        ? undefined
        : new InferenceHttpServer({
            service,
            auth: options.auth,
            port: options.httpPort,
            bindAddress: options.bindAddress,
            limits: options.limits,
            log: options.log,
          });
    const limits = resolveLimits(options.limits);
    const grpc =
      options.grpcPort === undefined
        ? undefined
        : new InferenceGrpcServer({
            service,
            auth: options.auth,
            port: options.grpcPort,
            bindAddress: options.bindAddress,
            limits,
            log: options.log,
          });
    const traffic: ProtocolTraffic[] = [http?.traffic, grpc?.traffic].filter((t) => t !== undefined);
    const registry = new SwitchboardMetrics({
      engine: host.engine,
      traffic,
      repository: host.coordinator ? () => host.coordinator!.snapshot() : undefined,
      experience: () => host.cartpole?.experience.snapshot(host.cartpole.activeVersion()) ?? null,
      actors: () => host.cartpole?.snapshot().actors ?? null,
      clientRegions: () => service.sharedMemory.snapshot(),
    });
    const metrics =
      options.metricsPort === undefined
        ? undefined
        : new MetricsServer({
            metrics: registry,
            auth: options.auth,
            public: options.metricsPublic,
            port: options.metricsPort,
            bindAddress: options.bindAddress,
            log: options.log,
          });
    const servers = new ProtocolServers(service, http, grpc, metrics, registry, options);
    try {
      await http?.start();
      await grpc?.start();
      await metrics?.start();
    } catch (error) {
      await servers.stop();
      throw error;
    }
    return servers;
  }

  /** The Endpoints page's view: where each server listens, the token, and each protocol's traffic. */
  snapshot(): EndpointsSnapshot {
    return {
      inferenceHttp: this.http ? this.http.url : null,
      inferenceGrpc: this.grpc ? this.grpc.address : null,
      metrics: this.metrics ? this.metrics.url : null,
      metricsPublic: this.options.metricsPublic ?? false,
      token: this.options.auth.token,
      models: this.service.servedModels(),
      traffic: [this.http?.traffic, this.grpc?.traffic].filter((t) => t !== undefined).map((t) => t.snapshot()),
      sharedMemory: this.service.sharedMemory.snapshot(),
    };
  }

  /** Stop taking requests; those running are answered (the engine drains after this). */
  async stop(): Promise<void> {
    await Promise.all([this.http?.stop(), this.grpc?.stop(), this.metrics?.stop()]);
    this.service.sharedMemory.close(); // requests still running keep their regions open until they are answered
    this.registry.stop();
  }
}

/**
 * The desktop app's servers: on loopback, with the token kept in `tokenFile` (the app's
 * data folder) so that clients keep working across restarts. The usual ports (8000, 8001, 8002)
 * when free; when another server has them, any free port (the Endpoints page shows which).
 */
export async function startDesktopProtocolServers(
  host: SwitchboardHost,
  tokenFile: string,
  log: (message: string) => void,
): Promise<ProtocolServers> {
  const auth = new TokenAuth((await resolveToken({ tokenFile })).token);
  const start = (httpPort: number, grpcPort: number, metricsPort: number) =>
    ProtocolServers.start(host, { auth, bindAddress: '127.0.0.1', httpPort, grpcPort, metricsPort, log });
  try {
    return await start(8000, 8001, 8002);
  } catch (error) {
    if (!(error instanceof ListenError) || error.systemCode !== 'EADDRINUSE') throw error;
    log(`${error.message}: serving the inference API and metrics on free ports instead`);
    return start(0, 0, 0);
  }
}
