/**
 * System shared-memory regions registered by clients (Triton's system shared-memory
 * extension): a pool with limits per client and overall, each region an open descriptor
 * of a POSIX shared-memory object that the server checked before it trusted it.
 *
 * Tensors move with positioned reads and writes of the descriptor (fs.readSync/writeSync
 * with a position): no native addon, since the only mmap addons in the registry
 * (mmap-io 1.1.7, shmmap 1.0.0) are unmaintained and build against headers this machine
 * cannot download. The calls are synchronous on purpose: on tmpfs a read is a memory copy
 * of the tensor's bytes, the same work the engine does when it copies a request into its
 * arena, and a round trip through libuv's thread pool would cost more than the copy.
 *
 * A region in use by a request in flight keeps its descriptor until that request is done,
 * even if it is unregistered meanwhile: a descriptor number is never used after close,
 * when the kernel may have given it to another file.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, writeSync } from 'node:fs';
import { ProtocolError } from '../protocol-error.js';
import { checkRegionName, SHM_FOLDER, shmFileOf } from './shm-key.js';

export interface SharedMemoryLimits {
  readonly maxRegions: number;
  readonly maxBytes: number;
  readonly maxRegionsPerClient: number;
  readonly maxBytesPerClient: number;
}

/**
 * Regions are the clients' memory, not the server's: the limits bound descriptors and what
 * one client can make the server address, so that one client cannot take the pool from the others.
 */
export const DEFAULT_SHARED_MEMORY_LIMITS: SharedMemoryLimits = {
  maxRegions: 512, // each an open descriptor: well under a default soft limit of 1024 with the sockets beside them
  maxBytes: 16 * 1024 ** 3,
  maxRegionsPerClient: 128,
  maxBytesPerClient: 4 * 1024 ** 3,
};

/** A tensor's place in a region, as a request names it (shared_memory_region, _offset, _byte_size). */
export interface ShmReference {
  readonly region: string;
  readonly offset: number;
  readonly byteSize: number;
}

export interface RegionStatus {
  readonly name: string;
  readonly key: string;
  readonly offset: number;
  readonly byteSize: number;
  /** Who registered it: the client's address (the token is one, shared by every client). */
  readonly owner: string;
  /** Bytes of it named by requests in flight now. */
  readonly inUseBytes: number;
  readonly requestsInFlight: number;
}

/** The pool as the Endpoints and Shared memory pages show it. */
export interface SharedMemorySnapshot {
  readonly limits: SharedMemoryLimits;
  readonly regions: readonly RegionStatus[];
  readonly registeredBytes: number;
  /** Descriptors open now, unregistered regions still in use by a request included. */
  readonly descriptorsOpen: number;
}

interface Region {
  readonly name: string;
  readonly key: string;
  readonly offset: number;
  readonly byteSize: number;
  readonly owner: string;
  readonly fd: number;
  /** Requests in flight that name it. */
  leases: number;
  inUseBytes: number;
  registered: boolean;
}

export interface SharedMemoryRegionsOptions {
  readonly limits?: Partial<SharedMemoryLimits>;
  /** The folder keys resolve in (tests use their own). */
  readonly folder?: string;
}

const OPEN_FLAGS = constants.O_RDWR | constants.O_NOFOLLOW;

export class SharedMemoryRegions {
  readonly limits: SharedMemoryLimits;
  private readonly folder: string;
  private readonly regions = new Map<string, Region>();
  /** Descriptors open now: registered regions, and unregistered ones a request still reads or writes. */
  private openDescriptors = 0;

  constructor(options: SharedMemoryRegionsOptions = {}) {
    const given = Object.entries(options.limits ?? {}).filter(([, value]) => value !== undefined);
    this.limits = { ...DEFAULT_SHARED_MEMORY_LIMITS, ...Object.fromEntries(given) };
    this.folder = options.folder ?? SHM_FOLDER;
  }

  get descriptorsOpen(): number {
    return this.openDescriptors;
  }

  /** Check the key, open the object without following links, check what was opened, and keep its descriptor. */
  register(name: string, key: string, offset: number, byteSize: number, owner: string): void {
    checkRegionName(name);
    if (this.regions.has(name)) throw new ProtocolError('already_exists', `region "${name}" is already registered`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new ProtocolError('invalid', 'offset must be a non-negative integer');
    if (!Number.isSafeInteger(byteSize) || byteSize <= 0) throw new ProtocolError('invalid', 'byte_size must be a positive integer');
    this.checkLimits(byteSize, owner);
    const path = shmFileOf(key, this.folder);
    const fd = openShmObject(path, key);
    try {
      checkOpened(fd, key, offset, byteSize);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.openDescriptors++;
    this.regions.set(name, { name, key, offset, byteSize, owner, fd, leases: 0, inUseBytes: 0, registered: true });
  }

  /** One region, or every region when `name` is undefined (as the protocol's empty name means). */
  unregister(name: string | undefined): void {
    if (name === undefined) {
      for (const region of [...this.regions.values()]) this.drop(region);
      return;
    }
    const region = this.regions.get(name);
    if (!region) throw new ProtocolError('not_found', `region "${name}" is not registered`);
    this.drop(region);
  }

  status(name?: string): RegionStatus[] {
    if (name !== undefined && !this.regions.has(name)) throw new ProtocolError('not_found', `region "${name}" is not registered`);
    const regions = name === undefined ? [...this.regions.values()] : [this.regions.get(name)!];
    return regions.map((r) => ({
      name: r.name,
      key: r.key,
      offset: r.offset,
      byteSize: r.byteSize,
      owner: r.owner,
      inUseBytes: r.inUseBytes,
      requestsInFlight: r.leases,
    }));
  }

  snapshot(): SharedMemorySnapshot {
    const regions = this.status();
    return {
      limits: this.limits,
      regions,
      registeredBytes: regions.reduce((n, r) => n + r.byteSize, 0),
      descriptorsOpen: this.openDescriptors,
    };
  }

  /** Every region a request names, checked and held until `release`: none is closed under it. */
  lease(references: readonly { readonly ref: ShmReference; readonly where: string }[]): ShmLease {
    const held: { region: Region; ref: ShmReference }[] = [];
    for (const { ref, where } of references) {
      const region = this.regions.get(ref.region);
      if (!region) throw new ProtocolError('invalid', `${where}: shared-memory region "${ref.region}" is not registered`);
      if (ref.offset + ref.byteSize > region.byteSize)
        throw new ProtocolError(
          'invalid',
          `${where}: offset ${ref.offset} + byte_size ${ref.byteSize} runs past the end of region "${ref.region}" (${region.byteSize} bytes)`,
        );
      held.push({ region, ref });
    }
    for (const { region, ref } of held) region.inUseBytes += ref.byteSize;
    const distinct = new Set(held.map((h) => h.region));
    for (const region of distinct) region.leases++;
    return new ShmLease(held, () => this.returnLease(held, distinct));
  }

  /** Unregister every region: their descriptors close now, or when the last request using one is done. */
  close(): void {
    this.unregister(undefined);
  }

  private checkLimits(byteSize: number, owner: string): void {
    const all = [...this.regions.values()];
    const mine = all.filter((r) => r.owner === owner);
    const sum = (regions: Region[]) => regions.reduce((n, r) => n + r.byteSize, 0);
    const { maxRegions, maxBytes, maxRegionsPerClient, maxBytesPerClient } = this.limits;
    if (all.length >= maxRegions) throw new ProtocolError('exhausted', `${all.length} regions are registered, the limit`);
    if (mine.length >= maxRegionsPerClient)
      throw new ProtocolError('exhausted', `this client has ${mine.length} regions registered, the limit per client`);
    if (sum(all) + byteSize > maxBytes)
      throw new ProtocolError('exhausted', `${byteSize} more bytes would take the regions past their limit of ${maxBytes} bytes`);
    if (sum(mine) + byteSize > maxBytesPerClient)
      throw new ProtocolError('exhausted', `${byteSize} more bytes would take this client's regions past ${maxBytesPerClient} bytes`);
  }

  private drop(region: Region): void {
    this.regions.delete(region.name);
    region.registered = false;
    if (region.leases === 0) this.closeRegion(region);
  }

  private returnLease(held: readonly { region: Region; ref: ShmReference }[], distinct: ReadonlySet<Region>): void {
    for (const { region, ref } of held) region.inUseBytes -= ref.byteSize;
    for (const region of distinct) {
      region.leases--;
      if (!region.registered && region.leases === 0) this.closeRegion(region);
    }
  }

  private closeRegion(region: Region): void {
    closeSync(region.fd);
    this.openDescriptors--;
  }
}

/** The regions one request reads its inputs from and writes its outputs to. */
export class ShmLease {
  private released = false;

  constructor(
    private readonly held: readonly { readonly region: Region; readonly ref: ShmReference }[],
    private readonly giveBack: () => void,
  ) {}

  /** Fill `target` (a tensor's bytes, `ref.byteSize` long) from the region. */
  readInto(ref: ShmReference, target: Uint8Array, where: string): void {
    const region = this.regionOf(ref);
    const read = readSync(region.fd, target, 0, ref.byteSize, region.offset + ref.offset);
    if (read !== ref.byteSize)
      throw new ProtocolError(
        'invalid',
        `${where}: region "${ref.region}" holds ${read} of its ${ref.byteSize} bytes (was the object truncated?)`,
      );
  }

  /** Write a tensor's bytes into the region, if they fit the place the request gave them. */
  write(ref: ShmReference, bytes: Uint8Array, where: string): void {
    if (bytes.byteLength > ref.byteSize)
      throw new ProtocolError(
        'invalid',
        `${where}: the output is ${bytes.byteLength} bytes; shared_memory_byte_size gives it ${ref.byteSize}`,
      );
    const region = this.regionOf(ref);
    let written = 0;
    while (written < bytes.byteLength)
      written += writeSync(region.fd, bytes, written, bytes.byteLength - written, region.offset + ref.offset + written);
  }

  get isReleased(): boolean {
    return this.released;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.giveBack();
  }

  private regionOf(ref: ShmReference): Region {
    if (this.released) throw new Error('a shared-memory lease was used after its release');
    const entry = this.held.find((h) => h.ref === ref);
    if (!entry) throw new Error(`region "${ref.region}" was not leased for this request`);
    return entry.region;
  }
}

/** Open the object read-write without following a symlink; what goes wrong is said in the key's terms. */
function openShmObject(path: string, key: string): number {
  try {
    // lstat first only for a clear message; O_NOFOLLOW and the fstat after opening are what make it safe.
    const link = lstatSync(path);
    if (link.isSymbolicLink()) throw new ProtocolError('invalid', `shared-memory key "${key}" is a symlink, which is never followed`);
    if (!link.isFile()) throw new ProtocolError('invalid', `shared-memory key "${key}" is not a regular file`);
    return openSync(path, OPEN_FLAGS);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ProtocolError('not_found', `no shared-memory object has key "${key}" (create it first)`);
    if (code === 'ELOOP') throw new ProtocolError('invalid', `shared-memory key "${key}" is a symlink, which is never followed`);
    if (code === 'EACCES' || code === 'EPERM')
      throw new ProtocolError('invalid', `shared-memory object "${key}" cannot be opened read-write by the server`);
    throw new ProtocolError('invalid', `shared-memory object "${key}" cannot be opened (${code ?? 'error'})`, undefined, { cause: error });
  }
}

/** What was opened must be a regular file of the server's own user, large enough for the region. */
function checkOpened(fd: number, key: string, offset: number, byteSize: number): void {
  const stat = fstatSync(fd);
  if (!stat.isFile()) throw new ProtocolError('invalid', `shared-memory key "${key}" is not a regular file`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid)
    throw new ProtocolError('invalid', `shared-memory object "${key}" belongs to user ${stat.uid}, not to the server's (${uid})`);
  if (offset + byteSize > stat.size)
    throw new ProtocolError(
      'invalid',
      `offset ${offset} + byte_size ${byteSize} runs past the end of shared-memory object "${key}" (${stat.size} bytes)`,
    );
}
