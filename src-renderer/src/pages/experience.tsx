/**
 * The experience buffer and the actor-learner loop: fill and rates, the rate limiter,
 * priority and policy-lag distributions, returns over time and per policy version,
 * checkpoints, and the controls (sampler settings, checkpoint now, clear).
 */
import { useState, type ReactNode } from 'react';
import type { CommandArgs } from '../../../src-preload/contract.js';
import type { ExperienceSnapshot, SamplerSettings } from '../../../src-preload/wire.js';
import { bytes, count, ms, percent, timeOfDay } from '../../../src-preload/format.js';
import { BarPanel, color, TimeChart, XyChart } from '../components/chart.js';
import { CommandButton, Stat } from '../components/controls.js';
import { useDashboard } from '../store.js';
import { transport } from '../transport/context.js';

export function Experience(): ReactNode {
  const experience = useDashboard((s) => s.snapshot!.experience);
  const loop = useDashboard((s) => s.snapshot!.loop);
  const history = useDashboard((s) => s.history);
  if (!experience) {
    return (
      <p className="empty" data-testid="experience-none">
        No experience buffer: the running demo has none. The default demo (the CartPole actor-learner loop) runs one.
      </p>
    );
  }
  const learner = loop?.learner;
  const actors = loop?.actors;
  return (
    <>
      <section className="panel stats">
        <h2>Buffer</h2>
        <Stat label="Items" value={`${count(experience.size)} / ${count(experience.capacity)}`} testId="experience-size" />
        <Stat label="Full" value={percent(experience.size / experience.capacity)} />
        <Stat label="Shared memory" value={bytes(experience.bytes)} testId="experience-bytes" />
        <Stat label="Inserts" value={count(experience.insertsPerSecond)} unit="/s" testId="experience-insert-rate" />
        <Stat label="Samples" value={count(experience.samplesPerSecond)} unit="/s" testId="experience-sample-rate" />
        <Stat label="Inserted" value={count(experience.inserted)} testId="experience-inserted" />
        <Stat label="Sampled" value={count(experience.sampled)} />
        <Stat label="Torn reads retried" value={count(experience.tornReads)} />
        <Stat label="Stale priority updates" value={count(experience.staleUpdates)} />
      </section>
      <Limiter experience={experience} />
      <div className="charts">
        <TimeChart
          title="Inserts and samples per second"
          history={history}
          testId="experience-rates-chart"
          series={[
            { key: 'inserts', label: 'inserts/s', value: (p) => p.insertsPerSecond, color: color(0) },
            { key: 'samples', label: 'samples/s', value: (p) => p.samplesPerSecond, color: color(1) },
          ]}
        />
        <TimeChart
          title="Episode returns (actors, mean of the latest 20)"
          history={history}
          testId="experience-returns-chart"
          series={[{ key: 'return', label: 'mean return', value: (p) => p.meanReturn, color: color(2) }]}
        />
        <XyChart
          title="Learner: return of each published policy version"
          points={(learner?.generations ?? []).map((g) => ({ x: g.version, y: g.meanPolicyReturn }))}
          xLabel="version"
          yLabel="mean return"
          testId="experience-learner-chart"
          empty="No version published by the learner yet."
        />
        <BarPanel
          title={`Priorities of the items held${experience.priorities ? ` (mean ${experience.priorities.mean.toPrecision(3)})` : ''}`}
          bars={(experience.priorities?.buckets ?? []).map((b) => ({ label: `${decade(b.from)}–${decade(b.to)}`, value: b.count }))}
          valueLabel="items"
          testId="experience-priorities"
          empty="The table holds no item."
        />
        <BarPanel
          title={`Policy lag of the newest items (versions behind; mean ${experience.policyLag?.mean.toFixed(2) ?? '–'}, max ${experience.policyLag?.max ?? '–'})`}
          bars={(experience.policyLag?.buckets ?? []).map((b) => ({ label: b.lag, value: b.count }))}
          valueLabel="items"
          testId="experience-policy-lag"
          empty="No transition yet, or no policy served."
        />
      </div>
      <section className="panel">
        <h2>Actors and learner</h2>
        <table>
          <tbody>
            <tr>
              <th>Actors</th>
              <td data-testid="experience-actors">
                {actors ? `${actors.actors} threads × ${actors.envsPerActor} CartPole envs` : 'waiting for the policy to be served'}
              </td>
              <th>Steps / episodes</th>
              <td data-testid="experience-steps">{actors ? `${count(actors.steps)} / ${count(actors.episodes)}` : '–'}</td>
              <th>Actor restarts</th>
              <td>{actors ? count(actors.restarts) : '–'}</td>
            </tr>
            <tr>
              <th>Learner</th>
              <td data-testid="experience-learner">
                {learner
                  ? `${learner.generations.length} versions published${learner.solvedAtVersion !== null ? `, solved at v${learner.solvedAtVersion}` : ''}${
                      learner.resumedFromVersion !== null ? ` (continued from v${learner.resumedFromVersion})` : ''
                    }`
                  : '–'}
              </td>
              <th>Critic (TD on replay)</th>
              <td data-testid="experience-critic">
                {learner ? `${count(learner.critic.batches)} batches, loss ${learner.critic.loss?.toPrecision(3) ?? '–'}` : '–'}
              </td>
              <th>Consumer errors</th>
              <td className={experience.consumer.errors > 0 ? 'error' : undefined}>
                {count(experience.consumer.errors)}
                {experience.consumer.lastError ? ` (${experience.consumer.lastError})` : ''}
                {learner?.error ? ` learner: ${learner.error}` : ''}
              </td>
            </tr>
          </tbody>
        </table>
      </section>
      <Checkpoints experience={experience} />
      <SamplerForm settings={experience.settings} />
      <Export capacity={experience.capacity} />
      <section className="panel">
        <h2>Clear</h2>
        <p className="muted">Removes every item from the table (the actors keep writing; new items are taken in from now on).</p>
        <CommandButton
          label="Clear the buffer"
          confirm={`Remove all ${count(experience.size)} items?`}
          testId="experience-clear"
          run={() => transport().command('experience.clear', { confirm: true })}
        />
      </section>
    </>
  );
}

function Limiter({ experience }: { experience: ExperienceSnapshot }): ReactNode {
  const { limiter } = experience;
  const spec = limiter.spec;
  const insertWaits = limiter.insertWaits;
  return (
    <section className="panel">
      <h2>
        Rate limiter{' '}
        <span className={`tag ${limiter.holding === 'nothing' ? '' : 'warn'}`} data-testid="experience-limiter-holding">
          {limiter.holding === 'nothing' ? 'open' : `holding ${limiter.holding} back`}
        </span>
      </h2>
      <table>
        <tbody>
          <tr>
            <th>Limiter</th>
            <td data-testid="experience-limiter-spec">
              {spec === null
                ? 'none'
                : spec.kind === 'minSize'
                  ? `MinSize ${count(spec.minSize)}`
                  : `SampleToInsertRatio ${spec.samplesPerInsert} samples per insert, min size ${count(spec.minSize)}, error buffer ${count(spec.errorBuffer)}`}
            </td>
            <th>Sample waits p50 / p99</th>
            <td data-testid="experience-sample-wait">
              {ms(limiter.sampleWaitMs.p50Ms)} / {ms(limiter.sampleWaitMs.p99Ms)} ms
            </td>
          </tr>
          <tr>
            <th>Sample waits timed out</th>
            <td>{count(limiter.sampleTimeouts)}</td>
            <th>Actor insert waits</th>
            <td data-testid="experience-insert-waits">
              {count(insertWaits.waits)} waits
              {insertWaits.waits > 0 ? `, mean ${ms(insertWaits.totalMs / insertWaits.waits)} ms` : ''}, {count(insertWaits.timeouts)} timed
              out
            </td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}

function Checkpoints({ experience }: { experience: ExperienceSnapshot }): ReactNode {
  const c = experience.checkpoint;
  return (
    <section className="panel">
      <h2>Checkpoints</h2>
      <table>
        <tbody>
          <tr>
            <th>Directory</th>
            <td className="mono" data-testid="experience-checkpoint-dir">
              {c.dir ?? 'none: checkpoints are off (a temporary repository; run with --repository or --experience-dir)'}
            </td>
            <th>Schedule</th>
            <td>
              {c.dir && c.intervalMs > 0
                ? `every ${Math.round(c.intervalMs / 1000)} s, and at stop`
                : c.dir
                  ? 'on demand and at stop'
                  : '–'}
            </td>
          </tr>
          <tr>
            <th>Last</th>
            <td data-testid="experience-checkpoint-last">
              {c.inProgress
                ? 'writing…'
                : c.last
                  ? `${timeOfDay(c.last.atMs)}: ${count(c.last.items)} items, ${bytes(c.last.bytes)}; copy ${ms(c.last.copyMs)} ms, write ${ms(c.last.writeMs)} ms`
                  : 'none yet'}
            </td>
            <th>Restored on start</th>
            <td data-testid="experience-checkpoint-restored">{c.restored ? `${count(c.restored.items)} items` : 'no'}</td>
          </tr>
          {c.error && (
            <tr>
              <th>Last error</th>
              <td className="error" colSpan={3}>
                {c.error}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="controls">
        <CommandButton
          label="Checkpoint now"
          testId="experience-checkpoint"
          disabled={c.dir === null}
          run={() => transport().command('experience.checkpoint', {})}
        />
      </div>
    </section>
  );
}

type Draft = { [K in keyof SamplerSettings]?: string };

const NUMBER_FIELDS: { key: Exclude<keyof SamplerSettings, 'sampler'>; label: string; step: string }[] = [
  { key: 'alpha', label: 'alpha', step: '0.1' },
  { key: 'beta', label: 'beta', step: '0.1' },
  { key: 'batchSize', label: 'batch size', step: '1' },
  { key: 'samplesPerInsert', label: 'samples per insert', step: '0.05' },
  { key: 'minSize', label: 'min size', step: '1' },
  { key: 'maxTimesSampled', label: 'max times sampled (0: no limit)', step: '1' },
];

/** The sampler and its limiter; only the fields changed are sent, and the engine validates them. */
function SamplerForm({ settings }: { settings: SamplerSettings }): ReactNode {
  const [draft, setDraft] = useState<Draft>({});
  const changes = (): CommandArgs<'experience.configure'> => {
    const args: CommandArgs<'experience.configure'> = {};
    if (draft.sampler && draft.sampler !== settings.sampler) args.sampler = draft.sampler as SamplerSettings['sampler'];
    for (const { key } of NUMBER_FIELDS) if (draft[key] !== undefined && draft[key] !== '') args[key] = Number(draft[key]);
    return args;
  };
  return (
    <section className="panel">
      <h2>Sampler</h2>
      <p className="muted" data-testid="experience-sampler-current">
        {settings.sampler}
        {settings.sampler === 'prioritized' ? ` (alpha ${settings.alpha}, beta ${settings.beta})` : ''}, batches of {settings.batchSize},{' '}
        {settings.samplesPerInsert} samples per insert, min size {count(settings.minSize)}
        {settings.maxTimesSampled > 0 ? `, removed after ${settings.maxTimesSampled} samples` : ''}
      </p>
      <div className="controls">
        <label className="setting">
          <span>sampler</span>
          <select
            value={draft.sampler ?? settings.sampler}
            onChange={(e) => setDraft({ ...draft, sampler: e.target.value })}
            data-testid="experience-sampler-kind"
          >
            <option value="prioritized">prioritized</option>
            <option value="uniform">uniform</option>
            <option value="fifo">FIFO</option>
          </select>
        </label>
        {NUMBER_FIELDS.map(({ key, label, step }) => (
          <label className="setting" key={key}>
            <span>{label}</span>
            <input
              type="number"
              step={step}
              placeholder={String(settings[key])}
              value={draft[key] ?? ''}
              onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
              data-testid={`experience-sampler-${key}`}
            />
          </label>
        ))}
        <CommandButton
          label="Apply"
          testId="experience-sampler-apply"
          disabled={Object.keys(changes()).length === 0}
          run={async () => {
            const reply = await transport().command('experience.configure', changes());
            if (reply.ok) setDraft({});
            return reply;
          }}
        />
      </div>
    </section>
  );
}

/** A power of ten as people write it: 0.01, 1, 100. */
function decade(value: number): string {
  return plain.format(Number(value.toPrecision(1)));
}
const plain = new Intl.NumberFormat('en-US', { maximumFractionDigits: 12 });

/** Export as .npz (np.load reads it in one line): written into the export folder, or downloaded in a browser. */
function Export({ capacity }: { capacity: number }): ReactNode {
  const [kind, setKind] = useState<'sample' | 'newest' | 'all'>('sample');
  const [items, setItems] = useState('4096');
  const itemCount = Math.max(1, Math.min(capacity, Math.floor(Number(items)) || 1));
  const which: CommandArgs<'experience.export'> = kind === 'all' ? { kind } : { kind, items: itemCount };
  // In a browser the page's cookie (set by the server from the token it was opened with) authorizes the download.
  const browser = transport().kind === 'websocket';
  const query = kind === 'all' ? '' : `?${kind}=${itemCount}`;
  return (
    <section className="panel">
      <h2>Export</h2>
      <p className="muted">
        NumPy .npz with every field plus index and generation: <code>np.load("experience.npz")</code>. Read from the buffer directly;
        sampling is not affected.
      </p>
      <div className="controls">
        <label className="setting">
          <span>items</span>
          <select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)} data-testid="experience-export-kind">
            <option value="sample">a random sample of</option>
            <option value="newest">the newest</option>
            <option value="all">all</option>
          </select>
        </label>
        {kind !== 'all' && (
          <input
            type="number"
            min={1}
            max={capacity}
            value={items}
            onChange={(e) => setItems(e.target.value)}
            data-testid="experience-export-items"
          />
        )}
        <CommandButton
          label="Export to the export folder"
          testId="experience-export"
          run={() => transport().command('experience.export', which)}
          describe={(result) => `${count(result.items)} items saved to ${result.path}`}
        />
        {browser && (
          <a href={`/api/experience.npz${query}`} download="experience.npz" data-testid="experience-download">
            Download .npz
          </a>
        )}
      </div>
    </section>
  );
}
