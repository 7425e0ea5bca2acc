/**
 * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`, what
 * tritonclient.grpc and perf_analyzer call), with @grpc/grpc-js, on its own port. The same
 * request path as HTTP (InferenceService), the same token (as `authorization` metadata,
 * `Bearer <token>`), the same limits; errors carry the status codes the protocol expects.
 * Message sizes are bounded on both sides (MAX_MESSAGE_BYTES): a larger one is refused by
 * grpc-js with RESOURCE_EXHAUSTED before it is decoded.
 */
import {
  Server,
  ServerCredentials,
  status,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ListenError } from '../../server/listen.js';
import type { TokenAuth } from '../../server/token-auth.js';
import type { InferenceService } from '../inference-service.js';
import type { InferLimits } from '../http-infer-codec.js';
import { ProtocolError, protocolErrorOf, type ProtocolErrorKind } from '../protocol-error.js';
import { ProtocolTraffic } from '../protocol-traffic.js';
import { decodeGrpcInferRequest, encodeGrpcInferResponse, type GrpcInferRequest } from './grpc-infer-codec.js';
import { GRPC_SERVICE, MalformedMessageError } from './grpc-service-definition.js';

/** The largest message either way: 64 MiB, as the HTTP body limit (grpc-js's own default is 4 MiB in, unbounded out). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const CODE: Record<ProtocolErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  unavailable: status.UNAVAILABLE,
  deadline: status.DEADLINE_EXCEEDED,
  cancelled: status.CANCELLED,
  too_large: status.RESOURCE_EXHAUSTED,
  already_exists: status.ALREADY_EXISTS,
  exhausted: status.RESOURCE_EXHAUSTED,
  unauthenticated: status.UNAUTHENTICATED,
  failed: status.INTERNAL,
  unsupported: status.UNIMPLEMENTED,
  internal: status.INTERNAL,
};

export interface InferenceGrpcServerOptions {
  readonly service: InferenceService;
  readonly auth: TokenAuth;
  readonly port?: number;
  readonly bindAddress?: string;
  readonly limits: InferLimits;
  readonly log?: (message: string) => void;
}

type Call = ServerUnaryCall<unknown, unknown> | ServerDuplexStream<unknown, unknown>;

interface RegisterRequest {
  name: string;
  key: string;
  /** uint64, decoded as a decimal string. */
  offset: string;
  byte_size: string;
}

function uint64Of(text: string, field: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new ProtocolError('invalid', `${field} ${text} is past what a region can span`);
  return value;
}

interface NamedRequest {
  name: string;
  version: string;
}

export class InferenceGrpcServer {
  readonly traffic = new ProtocolTraffic('grpc');
  private readonly server = new Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  private readonly bindAddress: string;
  private portValue = 0;

  constructor(private readonly options: InferenceGrpcServerOptions) {
    this.bindAddress = options.bindAddress ?? '127.0.0.1';
    const s = options.service;
    const shm = s.sharedMemory;
    const version = (v: string) => (v === '' ? undefined : Number(v));
    this.server.addService(GRPC_SERVICE, {
      ServerLive: this.unary(true, () => ({ live: s.isLive() })),
      ServerReady: this.unary(true, () => ({ ready: s.isReady() })),
      ModelReady: this.unary(true, (r: NamedRequest) => ({ ready: s.modelReady(r.name, version(r.version)) })),
      ServerMetadata: this.unary(false, () => s.serverMetadata()),
      ModelMetadata: this.unary(false, (r: NamedRequest) => s.modelMetadata(r.name, version(r.version))),
      ModelInfer: this.unary(
        false,
        async (r: GrpcInferRequest, call) => encodeGrpcInferResponse(await s.infer(this.decode(r, call))),
        true,
      ),
      ModelStreamInfer: (call: ServerDuplexStream<unknown, unknown>) => this.stream(call),
      ModelConfig: this.unary(false, (r: NamedRequest) => ({ config: s.modelConfig(r.name, version(r.version)) })),
      ModelStatistics: this.unary(false, (r: NamedRequest) => s.statistics(r.name === '' ? undefined : r.name, version(r.version))),
      RepositoryIndex: this.unary(false, (r: { ready: boolean }) => ({ models: s.repositoryIndex(r.ready) })),
      RepositoryModelLoad: this.unary(false, async (r: { model_name: string }) => (await s.loadModel(r.model_name), {})),
      RepositoryModelUnload: this.unary(false, async (r: { model_name: string }) => (await s.unloadModel(r.model_name), {})),
      SystemSharedMemoryStatus: this.unary(false, (r: { name: string }) => ({
        regions: Object.fromEntries(
          shm
            .status(r.name === '' ? undefined : r.name)
            .map((region) => [region.name, { name: region.name, key: region.key, offset: region.offset, byte_size: region.byteSize }]),
        ),
      })),
      SystemSharedMemoryRegister: this.unary(false, (r: RegisterRequest, call) => {
        shm.register(r.name, r.key, uint64Of(r.offset, 'offset'), uint64Of(r.byte_size, 'byte_size'), this.clientId(call));
        return {};
      }),
      SystemSharedMemoryUnregister: this.unary(false, (r: { name: string }) => (shm.unregister(r.name === '' ? undefined : r.name), {})),
    } satisfies UntypedServiceImplementation);
  }

  get port(): number {
    return this.portValue;
  }

  /** host:port, as gRPC clients take it. */
  get address(): string {
    return `${this.bindAddress.includes(':') ? `[${this.bindAddress}]` : this.bindAddress}:${this.portValue}`;
  }

  async start(): Promise<void> {
    const port = this.options.port ?? 8001;
    const host = this.bindAddress.includes(':') ? `[${this.bindAddress}]` : this.bindAddress;
    this.portValue = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
        error
          ? reject(new ListenError(this.bindAddress, port, /in use/i.test(error.message) ? 'EADDRINUSE' : 'UNKNOWN', error))
          : resolve(bound),
      ),
    );
  }

  /** Stop taking calls; those running are answered, then their connections close. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      const force = setTimeout(() => this.server.forceShutdown(), 5000);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private authorized(call: Call): boolean {
    const [header] = call.metadata.get('authorization');
    return typeof header === 'string' && header.startsWith('Bearer ') && this.options.auth.matches(header.slice(7).trim());
  }

  /**
   * The rate limiter's key, as over HTTP: the peer's address without its port (one token is
   * shared by every client, and a new connection must not buy a new bucket).
   */
  private clientId(call: Call): string {
    const peer = call.getPeer().replace(/^ipv[46]:/, '');
    return `peer:${peer.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')}`;
  }

  private decode(request: GrpcInferRequest, call: Call) {
    return decodeGrpcInferRequest(request, { clientId: this.clientId(call), ...this.options.limits });
  }

  private unary<Req>(open: boolean, handle: (request: Req, call: Call) => unknown, infer = false) {
    return (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>) => {
      const started = performance.now();
      const done = (error: ProtocolError | null, value?: unknown) => {
        const code = error ? CODE[error.kind] : status.OK;
        this.traffic.answered(status[code], error !== null, infer ? performance.now() - started : undefined);
        if (error) callback({ code, details: error.message });
        else callback(null, value);
      };
      if (!open && !this.authorized(call))
        return done(new ProtocolError('unauthenticated', 'missing or wrong token (send authorization: Bearer <token>)'));
      if (call.request instanceof MalformedMessageError) return done(call.request);
      Promise.resolve()
        .then(() => handle(call.request, call))
        .then(
          (value) => done(null, value),
          (error: unknown) => done(this.reported(error)),
        );
    };
  }

  /** Each request answered in order of completion, its error in `error_message`: one bad request does not end the stream. */
  private stream(call: ServerDuplexStream<unknown, unknown>): void {
    if (!this.authorized(call)) {
      this.traffic.answered(status[status.UNAUTHENTICATED], true);
      call.emit('error', { code: status.UNAUTHENTICATED, details: 'missing or wrong token (send authorization: Bearer <token>)' });
      return;
    }
    this.traffic.streamOpened();
    call.once('close', () => this.traffic.streamClosed());
    let pending = 0;
    let ended = false;
    const finishIfDone = () => {
      if (ended && pending === 0) call.end();
    };
    call.on('data', (request: GrpcInferRequest | MalformedMessageError) => {
      pending++;
      const started = performance.now();
      void Promise.resolve()
        .then(async () => {
          if (request instanceof MalformedMessageError) throw request;
          return encodeGrpcInferResponse(await this.options.service.infer(this.decode(request, call)));
        })
        .then(
          (response) => {
            this.traffic.answered('OK', false, performance.now() - started);
            return { error_message: '', infer_response: response };
          },
          (error: unknown) => {
            const reported = this.reported(error);
            this.traffic.answered(status[CODE[reported.kind]], true, performance.now() - started);
            return { error_message: reported.message, infer_response: { id: request instanceof MalformedMessageError ? '' : request.id } };
          },
        )
        .then((message) => {
          if (!call.cancelled) call.write(message);
        })
        .catch((error: unknown) => this.options.log?.(`gRPC stream: an answer could not be written: ${String(error)}`))
        .finally(() => {
          pending--;
          finishIfDone();
        });
    });
    call.on('end', () => {
      ended = true;
      finishIfDone();
    });
    call.on('error', (error) => this.options.log?.(`gRPC stream: ${error.message}`));
  }

  private reported(error: unknown): ProtocolError {
    const reported = protocolErrorOf(error);
    if (reported.kind === 'internal')
      this.options.log?.(`gRPC: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return reported;
  }
}
