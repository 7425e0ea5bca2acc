/**
 * Electron IPC transport: the preload's contextBridge API, nothing else. Telemetry and
 * events are pushed by the main process; commands are invoke/handle round trips.
 */
import type { CommandArgs, CommandName, CommandReply } from '../../../src-preload/contract.js';
import type { SwitchboardApi } from '../../../src-preload/api.js';
import { CheckedTelemetry } from './checked-telemetry.js';
import type { Transport, TransportHandlers } from './types.js';

export class IpcTransport implements Transport {
  readonly kind = 'ipc';
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly api: SwitchboardApi) {}

  connect(handlers: TransportHandlers): void {
    const telemetry = new CheckedTelemetry(() => handlers);
    handlers.status('connecting');
    this.unsubscribe.push(
      this.api.onTelemetry((snapshot) => {
        handlers.status('connected');
        telemetry.snapshot(snapshot);
      }),
      this.api.onEvent((event) => telemetry.event(event)),
    );
  }

  command<C extends CommandName>(name: C, args: CommandArgs<C>): Promise<CommandReply<C>> {
    return this.api.command(name, args);
  }

  addModel(model: string): Promise<CommandReply<'model.add'>> {
    return this.api.command('model.add', { model });
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }
}
