import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { probeGeneration, siblingWorkers, waitUntilServed } from './nginx-probe';
import { generationFilePath, renderGeneration } from './nginx-vhost';
import { FAILURE } from '../common/failure-types';

const execFileP = promisify(execFile);

export interface ReloaderConfig {
  bin: string;
  prefix: string;
  conf: string;
  errorLog: string;
  listenIp: string;
  httpPort: number;
}

/**
 * One reloader per nginx (keyed by its conf path) serialises every vhost file change of a node and batches
 * them: a reload costs ~107 ms of master time when reloads come back to back, so 50 vhosts written at once
 * must give a handful of reloads, not 50. Changes wait WINDOW_MS for company, are written together, checked
 * with one `nginx -t` and applied with one `-s reload`. When `-t` fails, the files that broke it are found by
 * bisection, put back as they were, and only their callers fail. A config that failed `-t` is never loaded.
 */
// 10 ms, not 25: a lone account's vhost waits here for nothing (it is the critical path of provisioning), and a
// burst is batched by the busy window below anyway (bench/provision.ts: same reload count, ~15 ms less per account).
const WINDOW_MS = 10;
/**
 * When changes arrived while the last reload ran, the node is in a burst (many accounts at once): the next
 * batch waits longer for company, from BUSY_WINDOW_MS doubling per busy batch up to MAX_BUSY_WINDOW_MS, so a
 * burst costs a reload every second or two instead of ~7 a second back to back (each ~110 ms of master time
 * plus a `-t` over every vhost). A lone change, or one of accounts made one after another, waits WINDOW_MS.
 */
const BUSY_WINDOW_MS = 250;
const MAX_BUSY_WINDOW_MS = 2_000;
/** After `-s reload`, new requests normally see the new config within ~20 ms; beyond this, something is wrong. */
const RELOAD_VISIBLE_TIMEOUT_MS = 5_000;

interface Change {
  file: string;
  content: string | null;
  arrived: number;
  resolve: (r: { changed: boolean }) => void;
  reject: (e: Error) => void;
}

export interface ReloaderStats {
  reloads: number;
  batches: number;
  configTests: number;
  lastReloadMs: number;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Write-then-rename, so nginx (or a concurrent -t) never reads half a file. '.tmp' does not match '*.conf'. */
function put(file: string, content: string | null): void {
  if (content === null) {
    fs.rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** nginx's first [emerg]/[crit] line is the one an operator needs ("... in /path/site.conf:12"). */
function errorLine(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /\[(emerg|crit|alert)\]/.test(l)) ?? lines[0] ?? 'nginx -t failed';
}

export class NginxReloader {
  private queue: Change[] = [];
  private running = false;
  /** The window of the next batch: WINDOW_MS, or longer while changes keep arriving during batches. */
  private window = WINDOW_MS;
  private lastBatchEnd = 0;
  private timer: NodeJS.Timeout | null = null;
  /**
   * False until this process has completed one reload. A worker that crashed between writing a file and
   * reloading would otherwise see "content already there" on retry and never load it: the first change of
   * a process always reloads, even if no file differs.
   */
  private synced = false;
  private generation: number;
  readonly stats: ReloaderStats = { reloads: 0, batches: 0, configTests: 0, lastReloadMs: 0 };

  constructor(private readonly config: ReloaderConfig) {
    const current = readOrNull(generationFilePath(config.conf));
    this.generation = Number(/"(\d+)/.exec(current ?? '')?.[1] ?? 0);
  }

  /** Writes `content` to `file` (null deletes it) as part of the next batch; resolves once nginx serves it. */
  apply(file: string, content: string | null): Promise<{ changed: boolean }> {
    // Nothing queued or running: the file on disk is what nginx serves, so an identical write is a no-op.
    if (this.synced && !this.running && this.queue.length === 0 && readOrNull(file) === content) {
      return Promise.resolve({ changed: false });
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ file, content, arrived: Date.now(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer || this.queue.length === 0) return;
    // Quiet for longer than any burst window: this change is not part of a burst.
    if (this.queue[0].arrived - this.lastBatchEnd > MAX_BUSY_WINDOW_MS) this.window = WINDOW_MS;
    const wait = Math.max(0, this.queue[0].arrived + this.window - Date.now());
    this.timer = setTimeout(() => void this.run(), wait);
  }

  private async run(): Promise<void> {
    this.timer = null;
    this.running = true;
    const batch = this.queue.splice(0);
    try {
      await this.process(batch);
    } catch (err) {
      // Files may be written but not loaded: the next change must reload even if its file is unchanged.
      this.synced = false;
      for (const c of batch) c.reject(err as Error);
    } finally {
      this.running = false;
      this.lastBatchEnd = Date.now();
      // Grow while changes arrive during batches; shrink by half (not at once) when one stays quiet, so a
      // burst whose changes trickle in keeps batching; a node that went quiet is back to WINDOW_MS in a few batches.
      const busy = this.queue.length > 0;
      const next = busy ? Math.max(BUSY_WINDOW_MS, this.window * 2) : this.window / 2;
      this.window = next < BUSY_WINDOW_MS ? WINDOW_MS : Math.min(MAX_BUSY_WINDOW_MS, next);
      this.schedule();
    }
  }

  private async process(batch: Change[]): Promise<void> {
    this.stats.batches++;
    // Group by file: the last write wins, and every caller of a file shares its outcome.
    const byFile = new Map<string, { orig: string | null; final: string | null; callers: Change[] }>();
    for (const c of batch) {
      const entry = byFile.get(c.file) ?? { orig: readOrNull(c.file), final: null, callers: [] };
      entry.final = c.content;
      entry.callers.push(c);
      byFile.set(c.file, entry);
    }
    const changed = [...byFile.entries()].filter(([, e]) => e.final !== e.orig).map(([file]) => file);
    const settle = (file: string, err?: Error) => {
      const e = byFile.get(file)!;
      for (const c of e.callers) err ? c.reject(err) : c.resolve({ changed: e.final !== e.orig });
    };
    if (changed.length === 0 && this.synced) {
      for (const file of byFile.keys()) settle(file);
      return;
    }
    for (const file of changed) put(file, byFile.get(file)!.final);
    // The generation bump rides along in the same `-t`, so the common case costs one test, not two.
    put(generationFilePath(this.config.conf), renderGeneration(this.generation + 1));
    const bad = new Map<string, string>();
    const first = await this.test();
    if (!first.ok) {
      for (const file of changed) put(file, byFile.get(file)!.orig);
      const baseline = await this.test();
      if (!baseline.ok) {
        // Broken outside this batch (main config, an older file, a vanished cert): retryable, nothing loaded.
        const err = new Error(`nginx config is broken independently of this change: ${baseline.error}`);
        for (const file of byFile.keys()) settle(file, err);
        return;
      }
      await this.bisect(changed, (f) => byFile.get(f)!, bad, first.error);
    }
    const good = changed.filter((f) => !bad.has(f));
    // After a bisection the final set was tested piecewise: test it whole once more before loading it.
    if (good.length > 0 || !this.synced) await this.reload(first.ok);
    for (const file of byFile.keys()) {
      const msg = bad.get(file);
      settle(
        file,
        msg === undefined ? undefined : ApplicationFailure.nonRetryable(`nginx rejected ${file}: ${msg}`, FAILURE.NginxConfigRejected),
      );
    }
  }

  /**
   * Applies `files` on top of what is already accepted and keeps the largest groups that pass `-t`; a single
   * failing file is put back (or removed if it is new) and recorded with nginx's error line.
   * `knownError` is given when the caller already saw this exact set fail, to save one `-t`.
   */
  private async bisect(
    files: string[],
    entry: (f: string) => { orig: string | null; final: string | null },
    bad: Map<string, string>,
    knownError?: string,
  ): Promise<void> {
    let error = knownError;
    if (error === undefined) {
      for (const f of files) put(f, entry(f).final);
      const result = await this.test();
      if (result.ok) return;
      for (const f of files) put(f, entry(f).orig);
      error = result.error;
    }
    if (files.length === 1) {
      bad.set(files[0], error);
      return;
    }
    const half = Math.ceil(files.length / 2);
    await this.bisect(files.slice(0, half), entry, bad);
    await this.bisect(files.slice(half), entry, bad);
  }

  private flags(): string[] {
    return ['-p', this.config.prefix, '-c', this.config.conf, '-e', this.config.errorLog];
  }

  private async test(): Promise<{ ok: boolean; error: string }> {
    this.stats.configTests++;
    try {
      await execFileP(this.config.bin, [...this.flags(), '-t', '-q'], { timeout: 30_000 });
      return { ok: true, error: '' };
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      return { ok: false, error: errorLine(`${e.stderr ?? ''}\n${e.stdout ?? ''}`) || e.message };
    }
  }

  /**
   * Signals the master (the generation file was bumped before the `-t`), then waits until every new request
   * is served by the new config. Measured on nginx 1.22: a new worker answers ~20 ms after `-s reload`, but the
   * master waits 100 ms before it tells the old workers to quit, and meanwhile both accept connections (a
   * request right after the first new answer still got the old config's 404). So "done" = the probe reports
   * the new generation AND every old worker has exited or titled itself "shutting down" (it closes its
   * listening sockets at that moment). Cost ~110 ms per reload, hence the batching above.
   */
  private async reload(alreadyTested: boolean): Promise<void> {
    const started = Date.now();
    const next = this.generation + 1;
    if (!alreadyTested) {
      const check = await this.test();
      if (!check.ok) throw new Error(`nginx -t failed before reload: ${check.error}`);
    }
    const before = await probeGeneration(this.config.listenIp, this.config.httpPort);
    const oldWorkers = before ? siblingWorkers(before.pid) : null;
    await execFileP(this.config.bin, [...this.flags(), '-s', 'reload'], { timeout: 10_000 });
    this.generation = next;
    await waitUntilServed(this.config.listenIp, this.config.httpPort, next, oldWorkers, RELOAD_VISIBLE_TIMEOUT_MS);
    this.synced = true;
    this.stats.reloads++;
    this.stats.lastReloadMs = Date.now() - started;
  }
}

const reloaders = new Map<string, NginxReloader>();

/** The node's reloader; one per conf path for the whole process, so all activity instances share batching. */
export function nginxReloader(config: ReloaderConfig): NginxReloader {
  let r = reloaders.get(config.conf);
  if (!r) {
    r = new NginxReloader(config);
    reloaders.set(config.conf, r);
  }
  return r;
}

/** Reloads done by this process for the nginx of `conf` (metrics, benchmarks, tests). */
export function nginxReloadCount(conf: string): number {
  return reloaders.get(conf)?.stats.reloads ?? 0;
}

export function nginxReloaderStats(conf: string): ReloaderStats | undefined {
  return reloaders.get(conf)?.stats;
}
