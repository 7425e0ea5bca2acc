/**
 * The API the preload exposes to the renderer (window.switchboard). Types only: the
 * implementation is in index.ts; the renderer imports these types for its IPC transport.
 */
import type { CommandArgs, CommandName, CommandReply } from './contract.js';

export interface SwitchboardApi {
  readonly platform: string;
  /** Unchecked as received: the renderer's IPC transport checks each message (wire.ts) before the store takes it. */
  onTelemetry(listener: (snapshot: unknown) => void): () => void;
  onEvent(listener: (event: unknown) => void): () => void;
  command<C extends CommandName>(name: C, args: CommandArgs<C>): Promise<CommandReply<C>>;
}
