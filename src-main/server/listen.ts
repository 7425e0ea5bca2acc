/**
 * Taking an address, as every server of the product does (the dashboard, the inference API,
 * the metrics): one error type for a port in use or not ours, whichever server it was.
 */
import type { Server } from 'node:net';

/** The server could not take its address: the port is in use, or not this process's to take. */
export class ListenError extends Error {
  constructor(
    readonly address: string,
    readonly port: number,
    /** The system's code, e.g. EADDRINUSE or EACCES. */
    readonly systemCode: string,
    cause: Error,
  ) {
    super(systemCode === 'EADDRINUSE' ? `${address}:${port} is already in use` : `cannot listen on ${address}:${port}: ${cause.message}`, {
      cause,
    });
    this.name = 'ListenError';
  }
}

/** Listens on `port` (0: any free one) at `bindAddress`; resolves with the port bound, or rejects with a ListenError. */
export async function listen(server: Server, port: number, bindAddress: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new ListenError(bindAddress, port, error.code ?? 'UNKNOWN', error));
    server.once('error', failed);
    server.listen(port, bindAddress, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`a TCP server reported the address ${String(address)}`);
  return address.port;
}
