/** Every queue: fill, refusals, wait times and policy, with the controls that change them. */
import type { ReactNode } from 'react';
import { count, ms } from '../../../src-preload/format.js';
import { CommandButton, NumberSetting } from '../components/controls.js';
import { useDashboard } from '../store.js';
import { transport } from '../transport/context.js';

export function Queues(): ReactNode {
  const engine = useDashboard((s) => s.snapshot!.engine);
  if (engine.queues.length === 0) return <p className="empty">No queue yet: no model is loaded.</p>;
  return (
    <>
      {engine.queues.map((q) => {
        const model = engine.models.find((m) => m.name === q.model);
        return (
          <section className="panel" key={q.name}>
            <h2>
              Queue {q.name} {q.paused && <span className="tag warn">paused</span>}{' '}
              {q.draining && <span className="tag warn">draining</span>}
            </h2>
            <table>
              <tbody>
                <tr>
                  <th>Depth</th>
                  <td data-testid={`queue-depth-${q.name}`}>{count(q.depth)}</td>
                  <th>Capacity</th>
                  <td data-testid={`queue-capacity-${q.name}`}>{count(q.capacity)}</td>
                  <th>High-water</th>
                  <td data-testid={`queue-high-water-${q.name}`}>{count(q.highWater)}</td>
                </tr>
                <tr>
                  <th>Enqueued</th>
                  <td data-testid={`queue-enqueued-${q.name}`}>{count(q.enqueued)}</td>
                  <th>Rejected (full / rate / invalid)</th>
                  <td data-testid={`queue-rejected-${q.name}`}>
                    {count(q.rejected.full)} / {count(q.rejected.rateLimited)} / {count(q.rejected.invalid)}
                  </td>
                  <th>Timed out / aborted</th>
                  <td data-testid={`queue-timed-out-${q.name}`}>
                    {count(q.timedOut)} / {count(q.aborted)}
                  </td>
                </tr>
                <tr>
                  <th>Wait p50 / p99</th>
                  <td data-testid={`queue-wait-${q.name}`}>
                    {ms(q.waitMs.p50Ms)} / {ms(q.waitMs.p99Ms)} ms
                  </td>
                  <th>Policy when full</th>
                  <td data-testid={`queue-policy-${q.name}`}>
                    {q.policy.fullPolicy === 'reject' ? 'reject' : `wait up to ${q.policy.fullWaitTimeoutMs} ms`}
                  </td>
                  <th>Queue timeout</th>
                  <td data-testid={`queue-timeout-${q.name}`}>
                    {q.policy.queueTimeoutMs === 0 ? 'none' : `${q.policy.queueTimeoutMs} ms`}
                  </td>
                </tr>
                {model && (
                  <tr>
                    <th>Max batch</th>
                    <td data-testid={`batch-size-${q.model}`}>{model.batching.maxBatchRows}</td>
                    <th>Max delay</th>
                    <td data-testid={`batch-delay-${q.model}`}>{model.batching.maxQueueDelayUs} µs</td>
                    <th>Mode</th>
                    <td>{model.batching.mode}</td>
                  </tr>
                )}
              </tbody>
            </table>
            <div className="controls">
              {q.paused ? (
                <CommandButton
                  label="Resume"
                  testId={`queue-resume-${q.name}`}
                  run={() => transport().command('queue.resume', { model: q.model })}
                />
              ) : (
                <CommandButton
                  label="Pause"
                  testId={`queue-pause-${q.name}`}
                  run={() => transport().command('queue.pause', { model: q.model })}
                />
              )}
              <CommandButton
                label="Drain"
                confirm="Refuse new requests until the queue is empty?"
                testId={`queue-drain-${q.name}`}
                run={() => transport().command('queue.drain', { model: q.model })}
              />
              <CommandButton
                label={q.policy.fullPolicy === 'reject' ? 'Policy: wait when full' : 'Policy: reject when full'}
                testId={`queue-policy-toggle-${q.name}`}
                run={() =>
                  transport().command('queue.configure', {
                    model: q.model,
                    fullPolicy: q.policy.fullPolicy === 'reject' ? 'wait' : 'reject',
                  })
                }
              />
            </div>
            <div className="controls">
              <NumberSetting
                label="Capacity"
                value={q.capacity}
                min={1}
                max={1_000_000}
                testId={`queue-capacity-set-${q.name}`}
                apply={(v) => transport().command('queue.configure', { model: q.model, capacity: v })}
              />
              <NumberSetting
                label="Queue timeout (ms)"
                value={q.policy.queueTimeoutMs}
                min={0}
                max={3_600_000}
                testId={`queue-timeout-set-${q.name}`}
                apply={(v) => transport().command('queue.configure', { model: q.model, queueTimeoutMs: v })}
              />
              {model && (
                <>
                  <NumberSetting
                    label="Max batch"
                    value={model.batching.maxBatchRows}
                    min={1}
                    max={4096}
                    testId={`batch-size-set-${q.model}`}
                    apply={(v) => transport().command('batching.configure', { model: q.model, maxBatchSize: v })}
                  />
                  <NumberSetting
                    label="Max delay (µs)"
                    value={model.batching.maxQueueDelayUs}
                    min={0}
                    max={10_000_000}
                    testId={`batch-delay-set-${q.model}`}
                    apply={(v) => transport().command('batching.configure', { model: q.model, maxQueueDelayUs: v })}
                  />
                </>
              )}
            </div>
          </section>
        );
      })}
    </>
  );
}
