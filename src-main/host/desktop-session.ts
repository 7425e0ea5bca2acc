/**
 * The desktop app's engine: one SwitchboardHost at a time on the repository the operator
 * chose, with its protocol servers. Switching drains and stops the host being left (its
 * servers first, so no new request arrives) and starts one on the new repository, without
 * restarting the app; if the new one cannot start, the previous choice is started again and
 * the error is the caller's to show. The Electron side only asks the questions (dialogs,
 * menus); everything here runs and is tested headless.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { UpdaterLauncher } from '../updater/launcher.js';
import type { RepositoryChoice } from './desktop-repositories.js';
import { SwitchboardHost } from './switchboard-host.js';

/** What a running host's servers must offer the session: a way to stop them. */
export interface StoppableServers {
  stop(): Promise<void>;
}

export interface DesktopSessionOptions<S extends StoppableServers> {
  readonly dataDir: string;
  readonly launcher: UpdaterLauncher;
  /** Where a choice's models are (DesktopRepositories.repositoryOf). */
  repositoryOf(choice: RepositoryChoice): string;
  /** Start the protocol servers of a host that has started. */
  startServers(host: SwitchboardHost): Promise<S>;
}

export interface Serving<S> {
  readonly choice: RepositoryChoice;
  readonly host: SwitchboardHost;
  readonly servers: S;
}

export class DesktopSession<S extends StoppableServers> {
  private serving: Serving<S> | undefined;
  private readonly listeners: ((now: Serving<S>) => void)[] = [];
  private switching: Promise<void> = Promise.resolve();

  constructor(private readonly options: DesktopSessionOptions<S>) {}

  get current(): Serving<S> {
    if (!this.serving) throw new Error('the desktop session has not started');
    return this.serving;
  }

  /** Called with the new host after each switch (the window reconnects to it). */
  onSwitch(listener: (now: Serving<S>) => void): void {
    this.listeners.push(listener);
  }

  /** Serve `choice`, replacing what is served; one switch at a time. */
  switchTo(choice: RepositoryChoice): Promise<void> {
    const run = this.switching.then(() => this.switchNow(choice));
    this.switching = run.catch(() => undefined); // the next switch waits for this one, whatever its outcome (the caller has the error)
    return run;
  }

  async stop(): Promise<void> {
    await this.switching;
    const serving = this.serving;
    this.serving = undefined;
    if (serving) await stopServing(serving);
  }

  private async switchNow(choice: RepositoryChoice): Promise<void> {
    const previous = this.serving;
    if (previous) {
      this.serving = undefined;
      await stopServing(previous);
    }
    try {
      this.serving = await this.start(choice);
    } catch (error) {
      if (previous) this.serving = await this.start(previous.choice); // back to what was served
      throw error;
    } finally {
      if (this.serving) for (const listener of this.listeners) listener(this.serving);
    }
  }

  private async start(choice: RepositoryChoice): Promise<Serving<S>> {
    const repository = this.options.repositoryOf(choice);
    if (choice.kind !== 'folder') mkdirSync(repository, { recursive: true }); // the app's own; an operator's folder must exist
    const host = new SwitchboardHost({
      repository,
      demo:
        choice.kind === 'demo' ? { kind: 'cartpole', loop: { checkpointDir: join(this.options.dataDir, 'experience') } } : { kind: 'none' }, // the operator's models are served as they are
      launcher: this.options.launcher,
    });
    await host.start();
    try {
      return { choice, host, servers: await this.options.startServers(host) };
    } catch (error) {
      await host.stop();
      throw error;
    }
  }
}

async function stopServing<S extends StoppableServers>(serving: Serving<S>): Promise<void> {
  await serving.servers.stop();
  await serving.host.stop();
}
