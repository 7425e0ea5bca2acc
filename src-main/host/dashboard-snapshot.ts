/**
 * What a dashboard receives as telemetry: the engine's snapshot, the repository and
 * updater, the experience buffer and the actor-learner loop when the demo runs them,
 * and per-process CPU and memory (Electron's view of its processes in the desktop app;
 * this process and the updater's headless). The same object is pushed over
 * IPC, over the WebSocket, and served by GET /api/snapshot.
 */
import type { CartPoleLoopSnapshot } from '../demo/cartpole-loop.js';
import type { EngineSnapshot } from '../engine/index.js';
import type { ExperienceSnapshot } from '../experience/service.js';
import type { RepositorySnapshot } from '../repository/coordinator.js';
import type { SocketCounters } from '../server/dashboard-socket.js';

export interface ProcessMetric {
  pid: number;
  type: string;
  name: string | null;
  /** Percent of one core; null until a first interval has been measured. */
  cpuPercent: number | null;
  /** Resident memory; null until first reported (the updater's first heartbeat). */
  memoryKb: number | null;
}

export interface DashboardSnapshot {
  engine: EngineSnapshot;
  repository: RepositorySnapshot | null;
  processes: ProcessMetric[];
  experience: ExperienceSnapshot | null;
  loop: CartPoleLoopSnapshot | null;
  /** The headless server's view of its clients (absent in the desktop app, which has none). */
  server?: { sockets: SocketCounters; refusedRequests: number };
}
