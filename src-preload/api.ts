/**
 * The API the preload exposes to the renderer (window.switchboard). Types only: the
 * implementation is in index.ts; the renderer imports these types for its IPC transport.
 */
import type { CommandArgs, CommandName, CommandReply } from './contract.js';
import type { EngineEvent } from '../src-main/engine/events.js';
import type { DashboardSnapshot } from '../src-main/host/dashboard-snapshot.js';

export interface SwitchboardApi {
  readonly platform: string;
  onTelemetry(listener: (snapshot: DashboardSnapshot) => void): () => void;
  onEvent(listener: (event: EngineEvent) => void): () => void;
  command<C extends CommandName>(name: C, args: CommandArgs<C>): Promise<CommandReply>;
}
