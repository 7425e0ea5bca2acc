/** Shared memory: the engine's arenas (capacity, use and high-water, over time), clients' registered regions and the experience buffer. */
import type { ReactNode } from 'react';
import { bytes, count } from '../../../src-preload/format.js';
import type { EngineSnapshot } from '../../../src-preload/wire.js';
import { color, TimeChart } from '../components/chart.js';
import { ClientRegions } from '../components/client-regions.js';
import { Stat } from '../components/controls.js';
import { useDashboard } from '../store.js';

const ARENA_KIND: Record<EngineSnapshot['arenas'][number]['kind'], string> = {
  arena: 'shared memory, in rows',
  bytes: 'shared memory, in bytes',
  transfer: 'by transfer',
};

export function Memory(): ReactNode {
  const engine = useDashboard((s) => s.snapshot!.engine);
  const experience = useDashboard((s) => s.snapshot!.experience);
  const history = useDashboard((s) => s.history);
  const clientRegions = useDashboard((s) => s.snapshot!.endpoints?.sharedMemory);
  const t = engine.arenaTotals;
  return (
    <>
      <section className="panel stats">
        <h2>Totals</h2>
        <Stat label="Arenas reserved" value={bytes(t.capacityBytes)} testId="arena-total-capacity" />
        <Stat label="Arenas in use" value={bytes(t.usedBytes)} testId="arena-total-used" />
        <Stat label="Arenas high-water" value={bytes(t.highWaterBytes)} testId="arena-total-high-water" />
        <Stat label="Experience buffer" value={experience ? bytes(experience.bytes) : 'none'} testId="memory-experience-bytes" />
        <Stat label="Shared memory in total" value={bytes(t.capacityBytes + (experience?.bytes ?? 0))} testId="memory-shared-total" />
      </section>
      <TimeChart
        title="Arena bytes in use"
        history={history}
        series={[{ key: 'used', label: 'bytes in use', value: (p) => p.arenaUsedBytes, color: color(0) }]}
      />
      <section className="panel">
        <h2>Arenas</h2>
        <p className="muted">
          A model whose rows are fixed is served through SharedArrayBuffer arenas cut into rows. Shapes that vary are packed into slots
          sized in bytes (workers.variableSlotBytes); a tensor its slot cannot hold, and every string, moves by transfer instead. Runs that
          needed a transfer often want larger slots.
        </p>
        {engine.arenas.length === 0 ? (
          <p className="empty">No arena: no model is loaded.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Arena</th>
                <th>Kind</th>
                <th>Slots in use</th>
                <th>Capacity</th>
                <th>In use</th>
                <th>By transfer</th>
                <th>High-water</th>
                <th>Runs</th>
                <th>Runs by transfer</th>
              </tr>
            </thead>
            <tbody>
              {engine.arenas.map((a) => (
                <tr key={a.name}>
                  <td>{a.name}</td>
                  <td data-testid={`arena-kind-${a.name}`}>{ARENA_KIND[a.kind]}</td>
                  <td>
                    {a.slotsInUse} / {a.slots}
                  </td>
                  <td data-testid={`arena-capacity-${a.name}`}>{a.kind === 'transfer' ? 'none reserved' : bytes(a.capacityBytes)}</td>
                  <td>{bytes(a.usedBytes)}</td>
                  <td>{bytes(a.transferBytes)}</td>
                  <td>{bytes(a.highWaterBytes)}</td>
                  <td>{count(a.acquired)}</td>
                  <td data-testid={`arena-transfer-runs-${a.name}`}>{count(a.transferRuns)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <ClientRegions pool={clientRegions} />
      {experience && (
        <section className="panel" data-testid="memory-experience">
          <h2>Experience buffer</h2>
          <p className="muted">
            One SharedArrayBuffer written by the actor threads directly: {count(experience.capacity)} items of{' '}
            {bytes(Math.round(experience.bytes / experience.capacity))}, {count(experience.size)} held.
          </p>
          <table>
            <thead>
              <tr>
                <th>Field</th>
                <th>Type</th>
                <th>Shape</th>
                <th>Column bytes</th>
              </tr>
            </thead>
            <tbody>
              {experience.fields.map((f) => (
                <tr key={f.name}>
                  <td>{f.name}</td>
                  <td>{f.dtype}</td>
                  <td>[{f.shape.join(', ')}]</td>
                  <td>{bytes(f.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}
