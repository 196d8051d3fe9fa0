import net from 'node:net';

/**
 * Every port the embedded stack uses, derived from one base so a developer's stack (base 17100) and the test
 * stack (base 27100) never collide. Offsets are fixed: operators' notes and stack.json rely on them only
 * through stack.json, never by arithmetic.
 */
export function stackPorts(base: number) {
  return {
    api: base,
    temporal: base + 1,
    temporalUi: base + 2,
    temporalHttp: base + 3,
    temporalMetrics: base + 4,
    dns: base + 5,
    dnsApi: base + 6,
    mysql: base + 7,
    nginxHttp: base + 8,
    nginxHttps: base + 9,
    imap: base + 10,
    lmtp: base + 11,
    smtp: base + 12,
    ftp: base + 13,
    ssh: base + 14,
    acme: base + 15,
    acmeMgmt: base + 16,
    workerMetrics: base + 17,
    imaps: base + 18,
    submission: base + 19,
    ftpPassiveLow: base + 20,
    ftpPassiveHigh: base + 39,
    /** A second hosting node ("b") for multi-node tests: its own nginx, mail and FTP. */
    nodeB: {
      nginxHttp: base + 40,
      nginxHttps: base + 41,
      imap: base + 42,
      lmtp: base + 43,
      smtp: base + 44,
      ftp: base + 45,
      workerMetrics: base + 46,
      imaps: base + 47,
      submission: base + 48,
      ftpPassiveLow: base + 50,
      ftpPassiveHigh: base + 59,
    },
    /**
     * Only `up --temporal cluster`: the private PostgreSQL and the Temporal server's internal services (the
     * frontend keeps `temporal`, its HTTP API `temporalHttp`). Membership ports are stored as smallint:
     * clusterPortsProblem() keeps them at most 32767.
     */
    cluster: {
      postgres: base + 60,
      frontendMembership: base + 61,
      historyGrpc: base + 62,
      historyMembership: base + 63,
      matchingGrpc: base + 64,
      matchingMembership: base + 65,
      workerGrpc: base + 66,
      workerMembership: base + 67,
      pprof: base + 68,
    },
  };
}

/** Why a port base cannot carry a Temporal cluster (its ports would not fit Temporal's smallint), or null. */
export function clusterPortsProblem(base: number): string | null {
  const highest = Math.max(...Object.values(stackPorts(base).cluster));
  return highest > 32767
    ? `--temporal cluster needs every port at most 32767 (Temporal stores membership ports as smallint): --port-base ${base} reaches ${highest}`
    : null;
}

export type StackPorts = ReturnType<typeof stackPorts>;

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Fails with one line naming the service when any of its ports is taken. */
export async function assertPortsFree(service: string, ports: number[]): Promise<void> {
  for (const port of ports) {
    if (!(await isPortFree(port))) {
      throw new Error(`port ${port} needed by ${service} is already in use (is another stack running? try 'bin/npanel down')`);
    }
  }
}

/**
 * Ready = the server sends its `220` greeting: a bound port says nothing about a privilege-separated child
 * that answers. SMTP and FTP greet alike; the greeting may be multi-line (`220-…`), the last line is `220 …`.
 */
export function greets220(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    let buffer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (/(^|\n)220 /.test(buffer)) {
        socket.end('QUIT\r\n');
        done(true);
      } else if (/(^|\n)[45]\d\d /.test(buffer)) done(false);
    });
  });
}
