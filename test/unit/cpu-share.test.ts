import { describe, expect, it } from 'vitest';
import { CpuShare, processCpuMs } from '../../src-main/util/cpu-share.js';

describe('CpuShare', () => {
  it('gives the share of one core between readings at least the interval apart', () => {
    const share = new CpuShare(1000);
    expect(share.update(500, 10_000)).toBeNull(); // one reading is not a rate
    expect(share.update(700, 10_400)).toBeNull(); // too soon: still nothing measured
    expect(share.update(2000, 11_000)).toBe(150); // 1500 ms of CPU in 1000 ms: one and a half cores
    expect(share.update(2100, 11_500)).toBe(150); // too soon: the latest share stays
    expect(share.update(2250, 12_000)).toBe(25); // measured from the reading at 11 000
    expect(share.share).toBe(25);
  });

  it('starts over when the CPU time goes back (a new process)', () => {
    const share = new CpuShare(1000);
    share.update(0, 0);
    expect(share.update(1000, 1000)).toBe(100);
    expect(share.update(10, 1500)).toBeNull();
    expect(share.update(510, 2500)).toBe(50);
    share.reset();
    expect(share.share).toBeNull();
    expect(share.update(600, 3000)).toBeNull();
  });

  it("reads this process's CPU time, user and system together, in milliseconds", () => {
    // CPU time only grows: a reading taken between two of Node's own (in microseconds) lies between them.
    const usage = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    let x = 0;
    for (let i = 0; i < 2_000_000; i++) x += Math.sqrt(i); // some CPU time to read
    const before = usage(process.cpuUsage());
    const read = processCpuMs();
    const after = usage(process.cpuUsage());
    expect(x).toBeGreaterThan(0);
    expect(read).toBeGreaterThanOrEqual(before);
    expect(read).toBeLessThanOrEqual(after);
    expect(before).toBeGreaterThan(1); // this process has run for more than a millisecond, so a unit off by 1000 shows
  });
});
