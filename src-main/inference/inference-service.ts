/**
 * The one request path behind every inference protocol: health, metadata, inference,
 * statistics, configuration and the model repository, on the engine and (when a
 * repository is served) its coordinator. HTTP/REST and gRPC decode their messages into
 * protocol-types.ts and call this; everything a request may get wrong is checked here or
 * by the engine before anything is enqueued, and comes back as a ProtocolError.
 */
import type { Engine, Tensor } from '../engine/index.js';
import type { RepositorySnapshot } from '../repository/coordinator.js';
import { datatypeOf, dtypeOf } from './datatypes.js';
import { ProtocolError, protocolErrorOf } from './protocol-error.js';
import type {
  DecodedInferRequest,
  InferResponse,
  ModelMetadata,
  ModelStatisticsJson,
  RepositoryIndexEntry,
  RequestedOutput,
  ResponseOutput,
  ServerMetadata,
} from './protocol-types.js';
import type { SharedMemoryRegions, ShmLease, ShmReference } from './shm/shared-memory-regions.js';
import { ShmTensors } from './shm/shm-tensors.js';
import { modelConfigJson, modelMetadata, statisticsJson } from './triton-views.js';

/** What the repository extension uses of the coordinator. */
export interface RepositoryControl {
  snapshot(): RepositorySnapshot;
  load(model: string): Promise<void>;
  unload(model: string): Promise<void>;
  isUnloaded(model: string): boolean;
}

/** Extensions this server implements, as Triton names them in server metadata. */
export const EXTENSIONS = ['binary_tensor_data', 'statistics', 'model_configuration', 'system_shared_memory'] as const;
const REPOSITORY_EXTENSION = 'model_repository';

export class InferenceService {
  constructor(
    private readonly engine: Engine,
    private readonly repository: RepositoryControl | undefined,
    private readonly serverVersion: string,
    /** Registered by clients over either protocol; requests of both read and write them. */
    readonly sharedMemory: SharedMemoryRegions,
  ) {}

  serverMetadata(): ServerMetadata {
    return {
      name: 'switchboard',
      version: this.serverVersion,
      extensions: this.repository ? [...EXTENSIONS, REPOSITORY_EXTENSION] : [...EXTENSIONS],
    };
  }

  isLive(): boolean {
    return this.engine.snapshot(0).state !== 'stopped';
  }

  /** Ready for inference: running, and every model the repository would serve is serving. */
  isReady(): boolean {
    if (this.engine.snapshot(0).state !== 'running') return false;
    if (!this.repository) return this.engine.modelNames().length > 0;
    const serving = new Set(this.engine.modelNames());
    return this.repository
      .snapshot()
      .models.every((m) => serving.has(m.name) || this.repository!.isUnloaded(m.name) || !m.versions.some((v) => v.validation === 'valid'));
  }

  /** The model's versions loaded now (active and warm; a draining one is on its way out). */
  private servedVersions(model: string): number[] {
    try {
      return this.engine
        .modelVersions(model)
        .filter((v) => v.state !== 'draining')
        .map((v) => v.version)
        .sort((a, b) => a - b);
    } catch (error) {
      throw protocolErrorOf(error); // UnknownModelError: not found
    }
  }

  /** The model, and the version asked for when there is one: both must be served (a ProtocolError "not_found" if not). */
  checkServed(model: string, version: number | undefined): number[] {
    const versions = this.servedVersions(model);
    if (version !== undefined && !versions.includes(version))
      throw new ProtocolError('not_found', `model "${model}" version ${version} is not loaded (loaded: ${versions.join(', ')})`);
    return versions;
  }

  modelReady(model: string, version?: number): boolean {
    try {
      this.checkServed(model, version);
      return true;
    } catch (error) {
      if (error instanceof ProtocolError && error.kind === 'not_found') return false;
      throw error;
    }
  }

  modelMetadata(model: string, version?: number): ModelMetadata {
    const versions = this.checkServed(model, version);
    // Warm versions share the active one's signature unless a swap was forced; the active one's is what requests are checked against.
    return modelMetadata(model, versions, this.engine.model(model).signature);
  }

  /** Every model served now, as its clients see it (the Endpoints page writes its client snippet from these). */
  servedModels(): ModelMetadata[] {
    return this.engine.modelNames().flatMap((name) => {
      const versions = this.servedVersions(name);
      return versions.length === 0 ? [] : [modelMetadata(name, versions, this.engine.model(name).signature)];
    });
  }

  modelConfig(model: string, version?: number): Record<string, unknown> {
    this.checkServed(model, version);
    const handle = this.engine.model(model);
    return modelConfigJson(model, handle.plan, handle.signature, this.engine.settings(model));
  }

  statistics(model?: string, version?: number): { model_stats: ModelStatisticsJson[] } {
    const names = model === undefined ? this.engine.modelNames() : [model];
    if (model !== undefined) this.checkServed(model, version);
    const stats = names.flatMap((name) =>
      this.engine
        .statistics(name)
        .filter((s) => version === undefined || s.version === version)
        .map((s) => statisticsJson(name, s)),
    );
    return { model_stats: stats };
  }

  async infer(request: DecodedInferRequest): Promise<InferResponse> {
    const lease = this.leaseRegions(request);
    try {
      return await this.inferWith(request, lease);
    } finally {
      lease?.release();
    }
  }

  /** Every region the request names, checked and held while it runs; undefined when it names none. */
  private leaseRegions(request: DecodedInferRequest): ShmLease | undefined {
    // On the request path: a request naming no region (nearly all of them) allocates nothing here.
    let references: { ref: ShmReference; where: string }[] | undefined;
    for (const i of request.inputs) if (i.shm) (references ??= []).push({ ref: i.shm, where: `tensor "${i.name}"` });
    for (const o of request.outputs ?? []) if (o.shm) (references ??= []).push({ ref: o.shm, where: `output "${o.name}"` });
    return references && this.sharedMemory.lease(references);
  }

  private async inferWith(request: DecodedInferRequest, lease: ShmLease | undefined): Promise<InferResponse> {
    const shm = lease && new ShmTensors(lease);
    for (const output of request.outputs ?? []) if (output.shm) shm!.output(output.shm, output.name);
    let handle;
    try {
      handle = this.engine.model(request.model);
    } catch (error) {
      throw protocolErrorOf(error);
    }
    const signature = handle.signature;
    const outputNames = signature.outputs.map((o) => o.name);
    for (const output of request.outputs ?? [])
      if (!outputNames.includes(output.name))
        throw new ProtocolError('invalid', `output "${output.name}": the model has no such output (it has: ${outputNames.join(', ')})`);
    const tensors: Record<string, Tensor> = {};
    for (const input of request.inputs) {
      if (Object.prototype.hasOwnProperty.call(tensors, input.name))
        throw new ProtocolError('invalid', `tensor "${input.name}": given twice`);
      const spec = signature.inputs.find((s) => s.name === input.name);
      if (spec && dtypeOf(input.datatype) !== spec.dtype)
        throw new ProtocolError(
          'invalid',
          `tensor "${input.name}": datatype ${input.datatype}, but the model takes ${datatypeOf(spec.dtype)}`,
        );
      const data = input.shm ? shm!.input(input.shm, input.name, input.datatype, input.shape) : input.data;
      tensors[input.name] = { data, dims: input.shape, dtype: dtypeOf(input.datatype) };
    }
    let result;
    try {
      result = await this.engine.infer(request.model, tensors, {
        timeoutMs: request.timeoutMs,
        clientId: request.clientId,
        version: request.version,
        ...(shm ? { outputSinks: shm.sinks } : {}),
      });
    } catch (error) {
      throw protocolErrorOf(error);
    }
    shm?.check();
    const wanted: readonly RequestedOutput[] = request.outputs ?? outputNames.map((name) => ({ name, binary: request.binaryByDefault }));
    const outputs: ResponseOutput[] = wanted.map(({ name, binary, shm: region }) => {
      const tensor = result.outputs[name]!; // every output of the signature is in the result
      if (region) shm!.writeRemaining(region, name, tensor.dtype, tensor.data);
      return { name, datatype: datatypeOf(tensor.dtype), dtype: tensor.dtype, shape: tensor.dims, data: tensor.data, binary, shm: region };
    });
    return {
      model_name: request.model,
      model_version: String(result.modelVersion),
      ...(request.id !== undefined ? { id: request.id } : {}),
      outputs,
    };
  }

  repositoryIndex(readyOnly: boolean): RepositoryIndexEntry[] {
    const repository = this.requireRepository();
    const entries: RepositoryIndexEntry[] = [];
    for (const model of repository.snapshot().models) {
      const unloaded = repository.isUnloaded(model.name);
      for (const v of model.versions) {
        const ready = v.serving === 'active' || v.serving === 'warm';
        if (readyOnly && !ready) continue;
        const reason = ready
          ? ''
          : unloaded
            ? 'unloaded'
            : v.validation === 'valid'
              ? 'not the version served (see the version policy)'
              : `${v.validation}${v.reason ? `: ${v.reason}` : ''}`;
        entries.push({ name: model.name, version: String(v.version), state: ready ? 'READY' : 'UNAVAILABLE', reason });
      }
    }
    return entries;
  }

  async loadModel(model: string): Promise<void> {
    await this.repositoryCall(() => this.requireRepository().load(model));
  }

  async unloadModel(model: string): Promise<void> {
    await this.repositoryCall(() => this.requireRepository().unload(model));
  }

  private async repositoryCall(call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      throw protocolErrorOf(error);
    }
  }

  private requireRepository(): RepositoryControl {
    if (!this.repository)
      throw new ProtocolError('unsupported', 'no model repository: one model file is served (--model); the repository extension is off');
    return this.repository;
  }
}
