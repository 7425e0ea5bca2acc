/**
 * The shared-memory parameters of an input or a requested output (shared_memory_region,
 * shared_memory_offset, shared_memory_byte_size), as both protocols give them once their
 * own encoding is undone: the region and the size are required together, the offset
 * defaults to 0.
 */
import { ProtocolError } from '../protocol-error.js';
import type { ShmReference } from './shared-memory-regions.js';

export interface RawShmParameters {
  readonly region: unknown;
  readonly offset: unknown;
  readonly byteSize: unknown;
}

/** The reference, undefined when none of the three is given, or an "invalid" ProtocolError naming `where`. */
export function shmReferenceOf(raw: RawShmParameters, where: string): ShmReference | undefined {
  if (raw.region === undefined && raw.offset === undefined && raw.byteSize === undefined) return undefined;
  if (typeof raw.region !== 'string' || raw.region === '')
    throw new ProtocolError('invalid', `${where}: shared_memory_region must name a registered region`);
  const byteSize = integerOf(raw.byteSize);
  if (byteSize === undefined)
    throw new ProtocolError('invalid', `${where}: shared_memory_byte_size must be given, as a non-negative integer`);
  const offset = raw.offset === undefined ? 0 : integerOf(raw.offset);
  if (offset === undefined) throw new ProtocolError('invalid', `${where}: shared_memory_offset must be a non-negative integer`);
  return { region: raw.region, offset, byteSize };
}

/** A non-negative safe integer from a JSON number or a protobuf int64's decimal string. */
function integerOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
