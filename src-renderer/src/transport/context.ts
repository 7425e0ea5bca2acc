/** The transport in use, for pages that send commands. Set once at start-up. */
import type { Transport } from './types.js';

let current: Transport | undefined;

export function setTransport(transport: Transport): void {
  current = transport;
}

export function transport(): Transport {
  if (!current) throw new Error('no transport connected');
  return current;
}
