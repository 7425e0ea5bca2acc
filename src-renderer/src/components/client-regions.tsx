/**
 * Clients' system shared-memory regions (Triton's extension), on the Endpoints page beside
 * the addresses and on the Shared memory page beside the engine's own arenas: what each
 * client registered, how much of it requests in flight use now, and the pool's limits.
 */
import type { ReactNode } from 'react';
import { bytes, count } from '../../../src-preload/format.js';
import type { SharedMemorySnapshot } from '../../../src-preload/wire.js';

export function ClientRegions({ pool }: { pool: SharedMemorySnapshot | undefined }): ReactNode {
  return (
    <section className="panel" data-testid="client-regions">
      <h2>Client shared-memory regions</h2>
      {pool === undefined ? (
        <p className="empty">No inference API runs, so no client can register a region.</p>
      ) : (
        <>
          <p className="muted" data-testid="client-regions-summary">
            {count(pool.regions.length)} of {count(pool.limits.maxRegions)} regions, {bytes(pool.registeredBytes)} of{' '}
            {bytes(pool.limits.maxBytes)}; each client up to {count(pool.limits.maxRegionsPerClient)} regions and{' '}
            {bytes(pool.limits.maxBytesPerClient)}. Descriptors open: {count(pool.descriptorsOpen)}.
          </p>
          {pool.regions.length === 0 ? (
            <p className="empty">
              No region is registered. A client on this machine registers one with /v2/systemsharedmemory or SystemSharedMemoryRegister.
            </p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Key</th>
                  <th>Offset</th>
                  <th>Size</th>
                  <th>In use by requests</th>
                  <th>Requests in flight</th>
                  <th>Owner</th>
                </tr>
              </thead>
              <tbody>
                {pool.regions.map((r) => (
                  <tr key={r.name} data-testid={`client-region-${r.name}`}>
                    <td className="mono">{r.name}</td>
                    <td className="mono">{r.key}</td>
                    <td>{bytes(r.offset)}</td>
                    <td>{bytes(r.byteSize)}</td>
                    <td>{bytes(r.inUseBytes)}</td>
                    <td>{count(r.requestsInFlight)}</td>
                    <td className="mono" title="the client's address: every client shares the one token">
                      {r.owner.replace(/^peer:/, '')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
