/**
 * IPC channel names and the WebSocket's snapshot acknowledgement, shared by main, preload
 * and renderer. Kept apart from the schemas: a sandboxed preload can require nothing but
 * electron's own modules, and the renderer has no use for zod, so neither pulls it in
 * (the main process validates every message anyway).
 */
export const IPC = {
  command: 'switchboard:command',
  telemetry: 'switchboard:telemetry',
  telemetryAck: 'switchboard:telemetry-ack',
  event: 'switchboard:event',
} as const;

/**
 * A WebSocket client's word that it has taken the last snapshot: the server sends the
 * next one only then. Without it a page slower than the telemetry rate (a loaded machine,
 * a heavy page) would fall further behind with every snapshot, and a command's reply
 * would queue behind all of them. (IPC does the same on `IPC.telemetryAck`.)
 */
export const SNAPSHOT_TAKEN = { type: 'snapshot-taken' } as const;
