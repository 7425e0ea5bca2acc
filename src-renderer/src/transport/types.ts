/**
 * The one interface the dashboard talks through. Two implementations: Electron IPC (the
 * preload API) and WebSocket (headless mode). Pages and the store never know which.
 */
import type { CommandArgs, CommandName, CommandReply } from '../../../src-preload/contract.js';
import type { DashboardSnapshot, EngineEvent } from '../../../src-preload/wire.js';

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected' | 'unauthorized';

export interface TransportHandlers {
  snapshot(snapshot: DashboardSnapshot): void;
  event(event: EngineEvent): void;
  status(status: ConnectionStatus, detail?: string): void;
}

export interface Transport {
  readonly kind: 'ipc' | 'websocket';
  connect(handlers: TransportHandlers): void;
  command<C extends CommandName>(name: C, args: CommandArgs<C>): Promise<CommandReply<C>>;
  /**
   * Add a model file as the next version of `model`: headless, the page sends `file` (an
   * authenticated upload); in the desktop app the main process asks for the file itself
   * and `file` is not used (the renderer never names a path).
   */
  addModel(model: string, file: File | undefined): Promise<CommandReply<'model.add'>>;
  close(): void;
}

export type { DashboardSnapshot, EngineEvent };
