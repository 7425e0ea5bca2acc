/**
 * Which Host and Origin headers the dashboard server answers. A DNS-rebinding page
 * reaches the server under a foreign host name, so a request must name the address the
 * server is bound to (or a loopback name) with its port, and a browser's Origin, when
 * sent, must be the dashboard's own.
 */
import { networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** An address as it stands in a URL's authority: IPv6 in brackets. */
export function urlHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

export class OriginPolicy {
  private allowed = new Set<string>();

  constructor(private readonly bindAddress: string) {}

  /** Call once the port is known (it may have been 0, any free port). */
  listening(port: number): void {
    const names = new Set([urlHost(this.bindAddress), ...LOOPBACK_NAMES]);
    // Bound to every interface: each of this machine's addresses names it.
    if (WILDCARDS.has(this.bindAddress)) {
      for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) names.add(urlHost(info.address));
    }
    this.allowed = new Set([...names].map((name) => `${name}:${port}`.toLowerCase()));
  }

  hostAllowed(host: string | undefined): boolean {
    return host !== undefined && this.allowed.has(host.toLowerCase());
  }

  /** No Origin (not a browser, or a same-origin GET) passes; a browser's must be this server under the Host it used. */
  originAllowed(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    return this.hostAllowed(host) && origin.toLowerCase() === `http://${host!.toLowerCase()}`;
  }
}
