/**
 * Where the servers' token comes from: a token file (kept across restarts, so that
 * long-running clients and a Prometheus scrape config keep working; made with a fresh
 * random token, readable by its owner only, when it does not exist yet), the
 * SWITCHBOARD_TOKEN environment variable, or else a new random token for this run.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const TOKEN_ENV = 'SWITCHBOARD_TOKEN';

/** Long enough to resist guessing, and plain enough to pass in a header. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]{16,256}$/;

export class TokenSourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TokenSourceError';
  }
}

export interface ResolvedToken {
  readonly token: string;
  readonly source: 'file' | 'new-file' | 'environment' | 'random';
}

/**
 * Hex, not base64url: a base64url token may begin with '-', which a command line (argparse,
 * curl) then takes for an option when the user pastes it after `--token`.
 */
export function newToken(): string {
  return randomBytes(24).toString('hex');
}

function checked(token: string, where: string): string {
  if (!TOKEN_PATTERN.test(token))
    throw new TokenSourceError(`${where}: a token must be 16 to 256 characters of letters, digits and ._~+/=- (no spaces)`);
  return token;
}

export async function resolveToken(options: { tokenFile?: string; env?: NodeJS.ProcessEnv }): Promise<ResolvedToken> {
  if (options.tokenFile !== undefined) {
    let text: string | undefined;
    try {
      text = await readFile(options.tokenFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new TokenSourceError(`cannot read the token file ${options.tokenFile}: ${(error as Error).message}`, { cause: error });
    }
    if (text !== undefined) return { token: checked(text.trim(), `token file ${options.tokenFile}`), source: 'file' };
    const token = newToken();
    try {
      await mkdir(dirname(options.tokenFile), { recursive: true });
      await writeFile(options.tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
      await chmod(options.tokenFile, 0o600);
    } catch (error) {
      throw new TokenSourceError(`cannot create the token file ${options.tokenFile}: ${(error as Error).message}`, { cause: error });
    }
    return { token, source: 'new-file' };
  }
  const fromEnv = (options.env ?? process.env)[TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { token: checked(fromEnv.trim(), TOKEN_ENV), source: 'environment' };
  return { token: newToken(), source: 'random' };
}
