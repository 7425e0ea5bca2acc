/**
 * Executes dashboard commands against the host. One implementation for both shells:
 * the Electron IPC handler and the headless WebSocket/HTTP server call it with the raw,
 * untrusted message; it validates, runs, and answers with a typed result or error.
 */
import {
  COMMAND_NAMES,
  CommandRequestSchema,
  parseCommand,
  type CommandArgs,
  type CommandName,
  type CommandReply,
} from '../../src-preload/contract.js';
import type { CommandResults } from '../../src-preload/wire.js';
import type { Engine } from '../engine/engine.js';
import { EngineError, asError } from '../engine/errors.js';
import type { ExperienceService } from '../experience/service.js';
import type { ModelCoordinator } from '../repository/coordinator.js';
import type { UpdaterSupervisor } from '../updater/supervisor.js';
import type { ModelUploads } from '../server/model-upload.js';
import type { ConfigureResult } from '../repository/model-settings.js';

/** A command with nothing to report may return nothing (sent as null); the others return their typed result. */
type HandlerResult<C extends CommandName> = CommandResults[C] extends null
  ? void | Promise<void>
  : CommandResults[C] | Promise<CommandResults[C]>;
type Handlers = { [C in CommandName]: (args: CommandArgs<C>) => HandlerResult<C> };

/** What commands act on: a SwitchboardHost, or an engine serving one file (no repository, no updater). */
export interface CommandTarget {
  readonly engine: Engine;
  readonly coordinator?: ModelCoordinator;
  readonly supervisor?: UpdaterSupervisor;
  /** Throws a typed error where there is no experience buffer. */
  readonly experience: ExperienceService;
  /** Publishing a model file into the repository (absent: one file is served). */
  readonly uploads?: ModelUploads;
  /** Writing a model's config.json and applying what the running model can take (absent: one file is served). */
  configureModel?(model: string, config: Record<string, unknown>): Promise<ConfigureResult>;
}

/** What a shell adds to the commands: the desktop app asks for a model file in a dialog of its own. */
export interface ShellCapabilities {
  /** The chosen file's bytes, or null when the operator cancelled. */
  pickModelFile?(): Promise<AsyncIterable<Uint8Array> | null>;
}

/** A command this shell cannot run, and what to do instead. */
export class CommandUnavailableError extends EngineError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A repository command where the engine serves one file without a repository. */
export class NoRepositoryError extends EngineError {
  readonly code = 'NO_REPOSITORY';
  constructor() {
    super('no model repository: this engine serves one file (--model); versions and the updater need --repository');
  }
}

export class CommandExecutor {
  private readonly handlers: Handlers;

  constructor(host: CommandTarget, shell: ShellCapabilities = {}) {
    const { engine } = host;
    const coordinator = (): ModelCoordinator => host.coordinator ?? throwNoRepository();
    const supervisor = (): UpdaterSupervisor => host.supervisor ?? throwNoRepository();
    this.handlers = {
      'queue.pause': ({ model }) => engine.pause(model),
      'queue.resume': ({ model }) => engine.resume(model),
      'queue.drain': ({ model }) => engine.drain(model),
      'queue.configure': ({ model, ...queue }) => engine.reconfigureQueue(model, queue),
      'batching.configure': ({ model, ...batching }) => engine.reconfigureBatching(model, batching),
      'workers.resize': ({ model, count }) => engine.resizeWorkers(model, count),
      'updater.restart': () => supervisor().restart('restart requested by the operator'),
      'model.activate': ({ model, version }) => coordinator().activate(model, version),
      'model.followLatest': ({ model }) => coordinator().followLatest(model),
      'model.reload': ({ model }) => coordinator().reload(model),
      'model.configure': ({ model, config }) => (host.configureModel ?? throwNoRepository)(model, config),
      'model.add': async ({ model }) => {
        const uploads = host.uploads ?? throwNoRepository();
        if (!shell.pickModelFile)
          throw new CommandUnavailableError('UPLOAD_OVER_HTTP', 'this dashboard sends the file itself: POST /api/models/{name}/versions');
        const file = await shell.pickModelFile();
        if (!file) throw new CommandUnavailableError('CANCELLED', 'no file was chosen');
        return { model, ...(await uploads.publish(model, file, uploads.maxBytes)) };
      },
      'experience.configure': (settings) => host.experience.configure(settings),
      'experience.checkpoint': async () => {
        const { bytes, copyMs, writeMs } = await host.experience.checkpointNow();
        return { bytes, copyMs, writeMs };
      },
      'experience.clear': () => host.experience.clear(),
      'experience.export': (which) => host.experience.exportToFile(which),
    };
  }

  /** Run one raw request (as received); never throws. */
  async execute(raw: unknown): Promise<CommandReply> {
    const request = CommandRequestSchema.safeParse(raw);
    if (!request.success) {
      const id =
        typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : -1;
      return { id, ok: false, error: { code: 'INVALID_COMMAND', message: malformedRequestMessage(raw) } };
    }
    const { id, command } = request.data;
    const parsed = parseCommand(command, request.data.args);
    if (!parsed.ok) return { id, ok: false, error: parsed.error };
    try {
      // The schema of `command` parsed these arguments; each handler is typed against its own above.
      const handler = this.handlers[command] as (args: unknown) => HandlerResult<CommandName>;
      const result = (await handler(parsed.args)) ?? null;
      return { id, ok: true, result };
    } catch (error) {
      const e = asError(error);
      return { id, ok: false, error: { code: e instanceof EngineError ? e.code : 'COMMAND_FAILED', message: e.message } };
    }
  }
}

/** What is wrong with a request that is not { id, command, args }: an unknown command is named, with the known ones. */
function malformedRequestMessage(raw: unknown): string {
  const command = typeof raw === 'object' && raw !== null ? (raw as { command?: unknown }).command : undefined;
  if (typeof command === 'string' && !(COMMAND_NAMES as readonly string[]).includes(command))
    return `unknown command "${command.slice(0, 100)}"; known: ${COMMAND_NAMES.join(', ')}`;
  return 'expected { id: number, command: <known name>, args }';
}

function throwNoRepository(): never {
  throw new NoRepositoryError();
}
