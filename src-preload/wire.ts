/**
 * What travels from the host to a dashboard, typed in one place: the telemetry snapshot,
 * events, and each command's result. The engine side builds these objects and the
 * renderer reads them; both import the types from here (type-only imports of the
 * engine's own snapshot types, erased at build: the renderer bundles none of src-main).
 *
 * Telemetry from the other side is trusted code's output but still crosses a process
 * boundary, so the transports check its shape cheaply (`isDashboardSnapshot`,
 * `isEngineEvent`) before the store takes it: a malformed message is dropped and
 * reported, never rendered half-way.
 */
import type { CartPoleLoopSnapshot } from '../src-main/demo/cartpole-loop.js';
import type { EngineSnapshot } from '../src-main/engine/index.js';
import type { EngineEvent } from '../src-main/engine/events.js';
import type { CheckpointInfo } from '../src-main/experience/checkpoint.js';
import type { ExperienceSnapshot, SamplerSettings } from '../src-main/experience/service.js';
import type { RepositorySnapshot } from '../src-main/repository/coordinator.js';
import type { ModelMetadata } from '../src-main/inference/protocol-types.js';
import type { ProtocolTrafficSnapshot } from '../src-main/inference/protocol-traffic.js';
import type { SharedMemorySnapshot } from '../src-main/inference/shm/shared-memory-regions.js';
import type { CommandName } from './contract.js';

export type {
  EngineEvent,
  EngineSnapshot,
  ExperienceSnapshot,
  ModelMetadata,
  ProtocolTrafficSnapshot,
  RepositorySnapshot,
  SamplerSettings,
  SharedMemorySnapshot,
};

/** Where the inference API and the metrics listen, the token they take, and each protocol's traffic (the Endpoints page). */
export interface EndpointsSnapshot {
  /** Base URL of the inference API over HTTP/REST; null when it is off. */
  inferenceHttp: string | null;
  /** host:port of the inference API over gRPC; null when it is off. */
  inferenceGrpc: string | null;
  /** The metrics' URL; null when they are off. */
  metrics: string | null;
  metricsPublic: boolean;
  /** The token both take as `Authorization: Bearer` (the dashboard's own; a dashboard has it already). */
  token: string;
  /** The models served, as `GET /v2/models/{m}` describes them to clients. */
  models: ModelMetadata[];
  traffic: ProtocolTrafficSnapshot[];
  /** Clients' system shared-memory regions (Triton's extension), shared by both protocols. */
  sharedMemory: SharedMemorySnapshot;
}

/** The headless server's counts of its WebSocket clients (see server/dashboard-socket.ts). */
export interface SocketCounters {
  open: number;
  accepted: number;
  refusedUpgrades: number;
  /** Frames `ws` refused (bad UTF-8, unmasked, reserved opcodes or bits, bad close codes, ...). */
  protocolErrors: number;
  oversizedMessages: number;
  /** Messages not sent to a client over its buffer bound. */
  skippedSends: number;
  slowClientsClosed: number;
  /** Errors on sockets that were being refused, or on open ones (a reset). */
  socketErrors: number;
}

export interface ProcessMetric {
  pid: number;
  type: string;
  name: string | null;
  /** Percent of one core; null until a first interval has been measured. */
  cpuPercent: number | null;
  /** Resident memory; null until first reported (the updater's first heartbeat). */
  memoryKb: number | null;
}

/**
 * What a dashboard receives as telemetry: the engine's snapshot, the repository and
 * updater, the experience buffer and the actor-learner loop when the demo runs them,
 * and per-process CPU and memory (Electron's view of its processes in the desktop app;
 * this process and the updater's headless). The same object is pushed over IPC, over
 * the WebSocket, and served by GET /api/snapshot.
 */
export interface DashboardSnapshot {
  engine: EngineSnapshot;
  repository: RepositorySnapshot | null;
  processes: ProcessMetric[];
  experience: ExperienceSnapshot | null;
  loop: CartPoleLoopSnapshot | null;
  /** The headless server's view of its clients (absent in the desktop app, which has none). */
  server?: { sockets: SocketCounters; refusedRequests: number };
  /** The inference API and metrics; null when neither is served. */
  endpoints?: EndpointsSnapshot | null;
}

/** What each command answers with when it succeeds (null: nothing to say but "done"). */
export interface CommandResults {
  'queue.pause': null;
  'queue.resume': null;
  'queue.drain': null;
  'queue.configure': null;
  'batching.configure': null;
  'workers.resize': null;
  'updater.restart': null;
  'model.activate': null;
  'model.followLatest': null;
  'model.reload': null;
  'model.add': { model: string; version: number; bytes: number };
  'model.configure': { applied: string[]; atNextVersion: string[] };
  'experience.configure': SamplerSettings;
  'experience.checkpoint': Pick<CheckpointInfo, 'bytes' | 'copyMs' | 'writeMs'>;
  'experience.clear': { removed: number };
  'experience.export': { path: string; items: number; bytes: number };
}

export type CommandResult<C extends CommandName> = CommandResults[C];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const EVENT_LEVELS: readonly unknown[] = ['info', 'warn', 'error'];

/** The fields every page reads first; deeper fields are the engine's own output and typed. */
export function isDashboardSnapshot(value: unknown): value is DashboardSnapshot {
  if (!isObject(value) || !isObject(value.engine) || !Array.isArray(value.processes)) return false;
  const engine = value.engine;
  return (
    Array.isArray(engine.models) &&
    Array.isArray(engine.queues) &&
    Array.isArray(engine.workers) &&
    (value.repository === null || isObject(value.repository)) &&
    (value.experience === null || isObject(value.experience)) &&
    (value.loop === null || isObject(value.loop))
  );
}

export function isEngineEvent(value: unknown): value is EngineEvent {
  return (
    isObject(value) &&
    typeof value.seq === 'number' &&
    typeof value.timeMs === 'number' &&
    EVENT_LEVELS.includes(value.level) &&
    typeof value.kind === 'string' &&
    typeof value.message === 'string'
  );
}
