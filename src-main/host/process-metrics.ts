/**
 * CPU and memory of this process for the dashboard's process table, where Electron's app
 * metrics are not at hand (headless). The share of a core is measured between readings at
 * least a second apart (CpuShare), so the first reading has none.
 */
import { CpuShare, processCpuMs } from '../util/cpu-share.js';
import type { ProcessMetric } from '../../src-preload/wire.js';

export class OwnProcessMetrics {
  private readonly cpu = new CpuShare();

  sample(): ProcessMetric {
    return {
      pid: process.pid,
      type: 'host',
      name: 'engine and its threads',
      cpuPercent: this.cpu.update(processCpuMs(), performance.now()),
      memoryKb: process.memoryUsage.rss() / 1024,
    };
  }
}
