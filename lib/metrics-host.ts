import fs from 'node:fs';

export interface DiskUsage {
  path: string;
  /** Share of the filesystem still available to unprivileged writers (statfs bavail), 0..100. */
  freePercent: number;
  freeBytes: number;
  totalBytes: number;
}

/** Free space of the filesystems holding `paths` (health check `disk` and the `npanel_host_disk_*` gauges). */
export async function diskUsage(paths: string[]): Promise<DiskUsage[]> {
  return Promise.all(
    paths.map(async (p) => {
      const s = await fs.promises.statfs(p);
      const totalBytes = s.blocks * s.bsize;
      const freeBytes = s.bavail * s.bsize;
      return { path: p, freeBytes, totalBytes, freePercent: totalBytes ? (100 * freeBytes) / totalBytes : 0 };
    }),
  );
}

export interface MemoryUsage {
  usedPercent: number;
  availableBytes: number;
  totalBytes: number;
}

/**
 * Host memory in use, as the kernel counts what a new program could still get: MemAvailable, not MemFree
 * (the page cache is reclaimable; counting it as used would keep a healthy server near 100%).
 */
export async function memoryUsage(): Promise<MemoryUsage> {
  const text = await fs.promises.readFile('/proc/meminfo', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  const totalBytes = kb('MemTotal');
  const availableBytes = kb('MemAvailable');
  if (!Number.isFinite(totalBytes) || !Number.isFinite(availableBytes))
    throw new Error('cannot read MemTotal/MemAvailable from /proc/meminfo');
  return { totalBytes, availableBytes, usedPercent: (100 * (totalBytes - availableBytes)) / totalBytes };
}
