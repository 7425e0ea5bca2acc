/**
 * The dashboard server's token: random per start unless one is given. Scripts send it as
 * `Authorization: Bearer`; the page trades the `?token=` it was opened with for an
 * HttpOnly, SameSite=Strict cookie and then shows a clean URL, so the token stays out of
 * the browser's history and out of the page's reach. A WebSocket also takes `?token=`
 * (a browser cannot set its headers; the page itself uses the cookie).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { newToken } from './token-source.js';

export class TokenAuth {
  readonly token: string;
  private cookie = 'switchboard-token';

  constructor(token?: string) {
    this.token = token ?? newToken();
  }

  /** Cookies are not kept apart by port: two servers on one machine each need their own name. */
  listening(port: number): void {
    this.cookie = `switchboard-token-${port}`;
  }

  matches(given: string | null | undefined): boolean {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** `Authorization: Bearer` only: the inference and metrics APIs have no page and take no cookie. */
  bearer(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    return header !== undefined && header.startsWith('Bearer ') && this.matches(header.slice(7).trim());
  }

  /** Bearer header or the page's cookie; with `query`, also `?token=`. */
  authorized(req: IncomingMessage, url: URL, query = false): boolean {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) return this.matches(header.slice(7));
    if (this.matches(this.cookieValue(req))) return true;
    return query && this.matches(url.searchParams.get('token'));
  }

  /** Set-Cookie for the page: the token when it was right, an expired cookie when it was not. */
  setCookie(valid: boolean): string {
    const attributes = 'Path=/; HttpOnly; SameSite=Strict';
    return valid ? `${this.cookie}=${this.token}; ${attributes}` : `${this.cookie}=; Max-Age=0; ${attributes}`;
  }

  private cookieValue(req: IncomingMessage): string | undefined {
    const header = req.headers.cookie;
    if (!header) return undefined;
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.cookie) return part.slice(eq + 1).trim();
    }
    return undefined;
  }
}
