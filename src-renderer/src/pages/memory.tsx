/** Shared-memory arenas: capacity, use and high-water, each and in total, over time. */
import type { ReactNode } from 'react';
import { bytes, count } from '../../../src-main/util/format.js';
import { color, TimeChart } from '../components/chart.js';
import { Stat } from '../components/controls.js';
import { useDashboard } from '../store.js';

export function Memory(): ReactNode {
  const engine = useDashboard((s) => s.snapshot!.engine);
  const history = useDashboard((s) => s.history);
  const t = engine.arenaTotals;
  return (
    <>
      <section className="panel stats">
        <h2>Totals</h2>
        <Stat label="Reserved" value={bytes(t.capacityBytes)} testId="arena-total-capacity" />
        <Stat label="In use" value={bytes(t.usedBytes)} testId="arena-total-used" />
        <Stat label="High-water" value={bytes(t.highWaterBytes)} testId="arena-total-high-water" />
      </section>
      <TimeChart
        title="Arena bytes in use"
        history={history}
        series={[{ key: 'used', label: 'bytes in use', value: (p) => p.arenaUsedBytes, color: color(0) }]}
      />
      <section className="panel">
        <h2>Arenas</h2>
        {engine.arenas.length === 0 ? (
          <p className="empty">No arena: no model is loaded.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Arena</th>
                <th>Slots in use</th>
                <th>Capacity</th>
                <th>In use</th>
                <th>High-water</th>
                <th>Batches assembled</th>
              </tr>
            </thead>
            <tbody>
              {engine.arenas.map((a) => (
                <tr key={a.name}>
                  <td>{a.name}</td>
                  <td>
                    {a.slotsInUse} / {a.slots}
                  </td>
                  <td data-testid={`arena-capacity-${a.name}`}>{bytes(a.capacityBytes)}</td>
                  <td>{bytes(a.usedBytes)}</td>
                  <td>{bytes(a.highWaterBytes)}</td>
                  <td>{count(a.acquired)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
