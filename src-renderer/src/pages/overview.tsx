/** The numbers a user checks first: throughput, latency split, queues, versions, worker health, loop delay. */
import type { ReactNode } from 'react';
import { count, ms, percent } from '../../../src-preload/format.js';
import { color, TimeChart } from '../components/chart.js';
import { Stat } from '../components/controls.js';
import type { DashboardSnapshot } from '../transport/types.js';
import { useDashboard } from '../store.js';

export function Overview(): ReactNode {
  const snapshot = useDashboard((s) => s.snapshot)!;
  const history = useDashboard((s) => s.history);
  const { engine } = snapshot;
  const rps = engine.models.reduce((sum, m) => sum + m.requestsPerSecond, 0);
  const rows = engine.models.reduce((sum, m) => sum + m.rowsPerSecond, 0);
  const queues = engine.queues.map((q) => q.name);
  return (
    <>
      {engine.models.map((m) => (
        <section className="panel stats" key={m.name}>
          <h2>
            {m.name}{' '}
            <span className="tag" data-testid={`model-active-version-${m.name}`}>
              v{m.version}
            </span>
          </h2>
          <Stat label="Requests/s" value={count(m.requestsPerSecond)} testId={`throughput-${m.name}`} />
          <Stat label="Rows/s" value={count(m.rowsPerSecond)} />
          <Stat label="Mean batch" value={m.meanBatchRows.toFixed(1)} unit="rows" testId={`mean-batch-${m.name}`} />
          <Stat label="p50" value={ms(m.latencyMs.total.p50Ms)} unit="ms" testId={`latency-p50-${m.name}`} />
          <Stat label="p95" value={ms(m.latencyMs.total.p95Ms)} unit="ms" testId={`latency-p95-${m.name}`} />
          <Stat label="p99" value={ms(m.latencyMs.total.p99Ms)} unit="ms" testId={`latency-p99-${m.name}`} />
          <Stat label="p99 queued" value={ms(m.latencyMs.queue.p99Ms)} unit="ms" testId={`latency-queue-p99-${m.name}`} />
          <Stat label="p99 compute" value={ms(m.latencyMs.compute.p99Ms)} unit="ms" testId={`latency-compute-p99-${m.name}`} />
        </section>
      ))}
      <section className="panel stats">
        <h2>Engine</h2>
        <Stat label="Total requests/s" value={count(rps)} testId="throughput-total" />
        <Stat label="Total rows/s" value={count(rows)} />
        <Stat
          label="Event-loop delay p99"
          value={ms(engine.eventLoopDelayMs.p99Ms)}
          unit="ms"
          testId="loop-delay-p99"
          tone={engine.eventLoopDelayMs.p99Ms > 20 ? 'warn' : 'ok'}
        />
        {engine.queues.map((q) => (
          <Stat
            key={q.name}
            label={`Queue "${q.name}"`}
            value={`${count(q.depth)} / ${count(q.capacity)}`}
            testId={`overview-queue-${q.name}`}
            tone={q.paused ? 'warn' : undefined}
          />
        ))}
      </section>
      {snapshot.loop && snapshot.experience && <LoopSummary loop={snapshot.loop} experience={snapshot.experience} />}
      <section className="panel">
        <h2>Workers</h2>
        <div className="tiles">
          {engine.workers.map((w) => (
            <div key={w.id} className={`tile state-${w.state}`} title={w.lastError ?? undefined}>
              <strong>{w.id}</strong>
              <span data-testid={`overview-worker-state-${w.id}`}>{w.state}</span>
            </div>
          ))}
          {snapshot.repository && (
            <div className={`tile state-${snapshot.repository.updater.state}`}>
              <strong>updater</strong>
              <span data-testid="overview-updater-state">{snapshot.repository.updater.state}</span>
            </div>
          )}
        </div>
      </section>
      <div className="charts">
        <TimeChart
          title="Throughput"
          history={history}
          series={[
            { key: 'rps', label: 'requests/s', value: (p) => p.requestsPerSecond, color: color(0) },
            { key: 'rows', label: 'rows/s', value: (p) => p.rowsPerSecond, color: color(1) },
          ]}
        />
        <TimeChart
          title="Latency (ms)"
          history={history}
          series={[
            { key: 'p50', label: 'p50', value: (p) => p.p50Ms, color: color(0) },
            { key: 'p99', label: 'p99', value: (p) => p.p99Ms, color: color(3) },
            { key: 'q99', label: 'queue p99', value: (p) => p.queueP99Ms, color: color(1) },
            { key: 'c99', label: 'compute p99', value: (p) => p.computeP99Ms, color: color(2) },
          ]}
        />
        <TimeChart
          title="Queue depth"
          history={history}
          series={queues.map((name, i) => ({ key: `q${i}`, label: name, value: (p) => p.depths[name] ?? 0, color: color(i) }))}
        />
        <TimeChart
          title="Event-loop delay p99 (ms)"
          history={history}
          series={[{ key: 'loop', label: 'p99', value: (p) => p.loopDelayP99Ms, color: color(4) }]}
        />
      </div>
    </>
  );
}

/** The actor-learner loop at a glance (details on the Experience page). */
function LoopSummary({
  loop,
  experience,
}: {
  loop: NonNullable<DashboardSnapshot['loop']>;
  experience: NonNullable<DashboardSnapshot['experience']>;
}): ReactNode {
  const learner = loop.learner;
  return (
    <section className="panel stats">
      <h2>CartPole actor-learner loop</h2>
      <Stat
        label="Mean return (last 20 episodes)"
        value={loop.actors && loop.actors.episodes > 0 ? loop.actors.meanReturn.toFixed(0) : '–'}
        testId="overview-mean-return"
      />
      <Stat label="Episodes" value={count(loop.actors?.episodes ?? 0)} />
      <Stat
        label="Learner"
        value={learner.solvedAtVersion !== null ? `solved at v${learner.solvedAtVersion}` : `${learner.generations.length} versions`}
      />
      <Stat label="Buffer" value={percent(experience.size / experience.capacity)} unit="full" />
      <Stat label="Inserts" value={count(experience.insertsPerSecond)} unit="/s" />
      <Stat label="Policy lag (mean)" value={experience.policyLag ? experience.policyLag.mean.toFixed(2) : '–'} unit="versions" />
    </section>
  );
}
