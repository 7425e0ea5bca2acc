/**
 * IPC channel names, shared by main and preload. Kept apart from the schemas: a
 * sandboxed preload can require nothing but electron's own modules, so it must not pull
 * in zod (the main process validates every message anyway).
 */
export const IPC = {
  command: 'switchboard:command',
  telemetry: 'switchboard:telemetry',
  telemetryAck: 'switchboard:telemetry-ack',
  event: 'switchboard:event',
} as const;
