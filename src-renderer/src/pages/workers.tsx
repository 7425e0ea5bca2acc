/** Inference workers and the updater: health, heartbeats, restarts, load; resize and restart. */
import type { ReactNode } from 'react';
import { bytes, count, ms, percent } from '../../../src-preload/format.js';
import { CommandButton, NumberSetting } from '../components/controls.js';
import { useDashboard } from '../store.js';
import { transport } from '../transport/context.js';

export function Workers(): ReactNode {
  const snapshot = useDashboard((s) => s.snapshot!);
  const { engine, repository, processes } = snapshot;
  return (
    <>
      <section className="panel">
        <h2>Inference workers</h2>
        {engine.workers.length === 0 ? (
          <p className="empty">No workers: no model is loaded.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Worker</th>
                <th>State</th>
                <th>Heartbeat age</th>
                <th>Restarts</th>
                <th>Batches</th>
                <th>Rows</th>
                <th>Busy</th>
                <th>In flight</th>
                <th>Versions</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {engine.workers.map((w) => (
                <tr key={w.id}>
                  <td>{w.id}</td>
                  <td className={`state-${w.state}`} data-testid={`worker-state-${w.id}`}>
                    {w.state}
                    {w.loading ? ' (loading)' : ''}
                  </td>
                  <td data-testid={`worker-heartbeat-${w.id}`}>{w.heartbeatAgeMs === null ? '—' : `${ms(w.heartbeatAgeMs)} ms`}</td>
                  <td data-testid={`worker-restarts-${w.id}`}>{w.restarts}</td>
                  <td data-testid={`worker-batches-${w.id}`}>{count(w.batches)}</td>
                  <td>{count(w.rows)}</td>
                  <td data-testid={`worker-busy-${w.id}`}>{percent(w.busyFraction)}</td>
                  <td>{w.inflightBatches}</td>
                  <td>{w.versions.join(', ')}</td>
                  <td className="error">{w.lastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="controls">
          {engine.models.map((m) => (
            <NumberSetting
              key={m.name}
              label={`Workers for ${m.name}`}
              value={engine.workers.filter((w) => w.model === m.name).length}
              min={1}
              max={64}
              testId={`workers-resize-${m.name}`}
              apply={(count) => transport().command('workers.resize', { model: m.name, count })}
            />
          ))}
        </div>
      </section>
      {repository && (
        <section className="panel">
          <h2>Updater process</h2>
          <table>
            <tbody>
              <tr>
                <th>State</th>
                <td className={`state-${repository.updater.state}`} data-testid="updater-state">
                  {repository.updater.state}
                  {repository.updater.validating ? ' (validating)' : ''}
                </td>
                <th>PID</th>
                <td data-testid="updater-pid">{repository.updater.pid ?? '—'}</td>
                <th>Heartbeat age</th>
                <td>{repository.updater.lastHeartbeatAgeMs === null ? '—' : `${count(repository.updater.lastHeartbeatAgeMs)} ms`}</td>
              </tr>
              <tr>
                <th>Restarts</th>
                <td data-testid="updater-restarts">{repository.updater.restarts}</td>
                <th>Ready timeouts / missed heartbeats</th>
                <td>
                  {repository.updater.readyTimeouts} / {repository.updater.missedHeartbeatKills}
                </td>
                <th>Invalid messages</th>
                <td>{repository.updater.invalidMessages}</td>
              </tr>
            </tbody>
          </table>
          {repository.updater.lastError && <p className="error">{repository.updater.lastError}</p>}
          <div className="controls">
            <CommandButton
              label="Restart updater"
              confirm="Kill the updater process and start a new one?"
              testId="updater-restart"
              run={() => transport().command('updater.restart', {})}
            />
          </div>
        </section>
      )}
      <section className="panel">
        <h2>Processes</h2>
        <table data-testid="processes">
          <thead>
            <tr>
              <th>PID</th>
              <th>Type</th>
              <th>Name</th>
              <th>CPU (of one core)</th>
              <th>Memory</th>
            </tr>
          </thead>
          <tbody>
            {processes.map((p) => (
              <tr key={p.pid} data-testid={`process-${p.type}`}>
                <td>{p.pid}</td>
                <td>{p.type}</td>
                <td>{p.name ?? ''}</td>
                <td>{p.cpuPercent === null ? '–' : `${p.cpuPercent.toFixed(1)}%`}</td>
                <td>{p.memoryKb === null ? '–' : bytes(p.memoryKb * 1024)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
