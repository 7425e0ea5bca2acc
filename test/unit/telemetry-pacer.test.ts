import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TelemetryPacer, telemetryRate } from '../../src-main/host/telemetry-pacer.js';

describe('telemetry pacer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends nothing before the dashboard listens, then one snapshot per tick at most, and never a second untaken', () => {
    let sent = 0;
    const pacer = new TelemetryPacer(4, () => void sent++);
    vi.advanceTimersByTime(1000);
    expect(sent).toBe(0); // a snapshot now would be lost on a page still loading
    pacer.ready();
    expect(sent).toBe(1); // ticks were missed while waiting: the first goes at once
    vi.advanceTimersByTime(1000);
    expect(sent).toBe(1); // not taken: nothing more, however many ticks pass
    pacer.ready();
    expect(sent).toBe(2); // taken after missed ticks: the next goes at once
    pacer.ready(); // taken before any tick came: the next waits for the tick
    expect(sent).toBe(2);
    vi.advanceTimersByTime(250);
    expect(sent).toBe(3);
    pacer.close();
    pacer.ready();
    vi.advanceTimersByTime(1000);
    expect(sent).toBe(3);
  });

  it('keeps a snapshot due when it could not be sent (the client is over its buffer bound), and sends it on the next tick', () => {
    let attempts = 0;
    let sent = 0;
    let over = true;
    const pacer = new TelemetryPacer(4, () => {
      attempts++;
      if (over) return false;
      sent++;
      return true;
    });
    pacer.ready();
    expect(attempts).toBe(1);
    vi.advanceTimersByTime(250);
    expect(attempts).toBe(2); // tried again on the tick: nothing is waiting for an acknowledgement
    expect(sent).toBe(0);
    over = false;
    vi.advanceTimersByTime(250);
    expect(sent).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(sent).toBe(1); // sent, so now it waits to be taken
    pacer.close();
  });
});

describe('telemetry rate', () => {
  it('takes the rate a dashboard asks for with ?hz=, held to 1-30 a second, else the server default (--telemetry-hz)', () => {
    expect(telemetryRate('10')).toBe(10);
    expect(telemetryRate('2.5')).toBe(2.5);
    expect(telemetryRate('1000')).toBe(30);
    expect(telemetryRate('0.2')).toBe(1);
    for (const nonsense of ['0', '-3', 'fast', '', 'Infinity']) expect(telemetryRate(nonsense, 7)).toBe(7);
    expect(telemetryRate(null, 7)).toBe(7);
    expect(telemetryRate(null)).toBe(4);
    expect(telemetryRate(null, 100)).toBe(30); // a server default beyond the cap is held to it too
  });

  it('paces snapshots at the rate taken from the query', () => {
    vi.useFakeTimers();
    let sent = 0;
    const pacer = new TelemetryPacer(telemetryRate('20'), () => void sent++);
    pacer.ready();
    sent = 0;
    for (let ms = 0; ms < 1000; ms += 10) {
      vi.advanceTimersByTime(10);
      pacer.ready(); // a dashboard that takes each snapshot at once
    }
    expect(sent).toBe(20);
    pacer.close();
    vi.useRealTimers();
  });
});
