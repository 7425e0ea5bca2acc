/** Repository versions with their states and reasons, the active one, swap history; activate, follow latest, reload. */
import type { ReactNode } from 'react';
import { bytes, ms, timeOfDay } from '../../../src-preload/format.js';
import { AddModel } from '../components/add-model.js';
import { ModelSettings } from '../components/model-settings.js';
import { BatchingDecisionLine, ServedBatching } from '../components/batching-decision.js';
import { CommandButton } from '../components/controls.js';
import type { RepositorySnapshot } from '../../../src-preload/wire.js';
import { useDashboard } from '../store.js';
import { transport } from '../transport/context.js';

/** `keepWarm` counts the active version: 1 leaves no spare loaded for an instant rollback. */
function loadedVersionsText(keepWarm: number): string {
  if (keepWarm <= 1) return 'no older version kept loaded';
  const spares = keepWarm - 1;
  return `${spares} older version${spares === 1 ? '' : 's'} kept loaded for an instant rollback`;
}

type Evidence = RepositorySnapshot['models'][number]['versions'][number]['batching'];

/** The validation probe's verdict on one version (its shapes may rule batching out without one). */
function probeVerdict(evidence: Evidence): string {
  if (!evidence) return '';
  if (evidence.error) return 'probe failed';
  return evidence.rowsIndependent ? 'rows independent' : 'rows interact';
}

export function Models(): ReactNode {
  const snapshot = useDashboard((s) => s.snapshot!);
  const repository = snapshot.repository;
  if (!repository)
    return (
      <section className="panel">
        <ServedBatching models={snapshot.engine.models} />
        <p className="empty">
          This engine serves a single file, without a model repository. Versions, validation, hot swaps and rollback need one: start it with
          --repository.
        </p>
      </section>
    );
  const add = <AddModel models={repository.models.map((m) => m.name)} />;
  if (repository.models.length === 0)
    return (
      <>
        {add}
        <p className="empty">The repository at {repository.root} holds no model yet.</p>
      </>
    );
  const served = new Map(snapshot.engine.models.map((s) => [s.name, s.batching.decision]));
  return (
    <>
      {add}
      {repository.models.map((m) => (
        <section className="panel" key={m.name}>
          <h2>
            {m.name} — active{' '}
            <span data-testid={`model-active-${m.name}`}>{m.activeVersion === null ? 'none' : `v${m.activeVersion}`}</span>
          </h2>
          <p>
            Policy:{' '}
            <span data-testid={`model-policy-${m.name}`}>
              {m.operatorPin !== null
                ? `pinned to v${m.operatorPin} by the operator`
                : m.policy?.kind === 'pinned'
                  ? `pinned to v${m.policy.version}`
                  : 'follow latest'}
            </span>
            {m.policy && (
              <>
                {' · '}
                <span data-testid={`model-loaded-${m.name}`}>{loadedVersionsText(m.policy.keepWarm)}</span>
              </>
            )}
            {m.configError && <span className="error"> · config.json: {m.configError}</span>}
          </p>
          {served.has(m.name) && <BatchingDecisionLine model={m.name} decision={served.get(m.name)!} />}
          <ModelSettings model={m} />
          <div className="controls">
            <CommandButton
              label="Follow latest"
              testId={`model-follow-latest-${m.name}`}
              run={() => transport().command('model.followLatest', { model: m.name })}
            />
            <CommandButton
              label="Reload (revalidate)"
              testId={`model-reload-${m.name}`}
              run={() => transport().command('model.reload', { model: m.name })}
            />
          </div>
          <table>
            <thead>
              <tr>
                <th>Version</th>
                <th>Validation</th>
                <th>Serving</th>
                <th>Reason</th>
                <th>Batching probe</th>
                <th>sha256</th>
                <th>Size</th>
                <th>Load / warm-up</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {[...m.versions].reverse().map((v) => (
                <tr key={v.version}>
                  <td>v{v.version}</td>
                  <td className={`validation-${v.validation}`} data-testid={`version-state-${m.name}-${v.version}`}>
                    {v.validation}
                  </td>
                  <td data-testid={`version-serving-${m.name}-${v.version}`}>{v.serving ?? ''}</td>
                  <td className="reason">{v.reason ?? ''}</td>
                  <td data-testid={`version-probe-${m.name}-${v.version}`}>{probeVerdict(v.batching)}</td>
                  <td className="mono">{v.sha256?.slice(0, 12) ?? ''}</td>
                  <td>{bytes(v.sizeBytes)}</td>
                  <td>{v.timings ? `${ms(v.timings.loadMs)} / ${ms(v.timings.warmupMs)} ms` : ''}</td>
                  <td>
                    {v.validation === 'valid' && v.serving !== 'active' && (
                      <CommandButton
                        label={m.activeVersion !== null && v.version < m.activeVersion ? 'Roll back' : 'Activate'}
                        confirm={`Serve v${v.version} and stop following the latest?`}
                        testId={`model-activate-${m.name}-${v.version}`}
                        run={() => transport().command('model.activate', { model: m.name, version: v.version })}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Swap history</h3>
          {m.swaps.length === 0 ? (
            <p className="empty">No swap yet.</p>
          ) : (
            <table data-testid={`swap-history-${m.name}`}>
              <thead>
                <tr>
                  <th>When</th>
                  <th>From → to</th>
                  <th>Kind</th>
                  <th>Load</th>
                  <th>Total</th>
                  <th>Result</th>
                </tr>
              </thead>
              <tbody>
                {[...m.swaps].reverse().map((s) => (
                  <tr key={`${s.startedAtMs}-${s.to}`}>
                    <td>{timeOfDay(s.startedAtMs)}</td>
                    <td>
                      v{s.from ?? '—'} → v{s.to}
                    </td>
                    <td>{s.kind}</td>
                    <td>{ms(s.loadMs)} ms</td>
                    <td>{ms(s.totalMs)} ms</td>
                    <td className={s.ok ? 'ok' : 'error'}>{s.ok ? 'ok' : s.error}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
    </>
  );
}
