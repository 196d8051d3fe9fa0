import crypto from 'node:crypto';
import net from 'node:net';
import { Server as SshServer, utils } from 'ssh2';

/**
 * Real TCP servers on 127.0.0.1 (port 0) that play a migration source gone wrong, one behaviour each. They
 * record what reached them, so a test can check what the client did (gave up, never sent a password).
 */

export interface Peer {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Bytes each accepted connection sent to us. */
  receivedBytes: number;
  /** Bytes we wrote before the client hung up. */
  sentBytes: number;
  close(): Promise<void>;
}

function serve(onConnection: (sock: net.Socket, peer: Peer) => void): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    peer.connections += 1;
    sock.on('data', (d) => (peer.receivedBytes += d.length));
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
    onConnection(sock, peer);
  });
  const peer: Peer = {
    port: 0,
    connections: 0,
    receivedBytes: 0,
    sentBytes: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      peer.port = (server.address() as net.AddressInfo).port;
      resolve(peer);
    });
  });
}

function write(sock: net.Socket, peer: Peer, data: Buffer | string): boolean {
  if (sock.destroyed) return false;
  peer.sentBytes += Buffer.byteLength(data);
  return sock.write(data);
}

/** A MariaDB-like server: its binary greeting packet, an error packet for whatever comes back, then close. */
export function mariadbLikePeer(): Promise<Peer> {
  return serve((sock, peer) => {
    const body = Buffer.concat([Buffer.from([10]), Buffer.from('5.5.5-10.11.6-MariaDB\0', 'latin1'), crypto.randomBytes(40)]);
    const head = Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, 0, 0]);
    write(sock, peer, Buffer.concat([head, body]));
    sock.once('data', () => {
      write(sock, peer, Buffer.from([0x17, 0, 0, 1, 0xff, 0x13, 0x04, ...Buffer.from('#08S01Bad handshake', 'latin1')]));
      sock.end();
    });
  });
}

/** An HTTP server on the SSH port: a 400 for the SSH identification, then close. */
export function httpPeer(): Promise<Peer> {
  return serve((sock, peer) => {
    sock.once('data', () => {
      write(sock, peer, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      sock.end();
    });
  });
}

/** Accepts, then resets (RST) at once, or after an SSH identification line. */
export function resetPeer(afterIdent = false): Promise<Peer> {
  return serve((sock, peer) => {
    if (afterIdent) write(sock, peer, 'SSH-2.0-OpenSSH_9.6\r\n');
    setTimeout(() => sock.resetAndDestroy(), afterIdent ? 100 : 0);
  });
}

/** Random bytes, endlessly, with no identification line. */
export function garbagePeer(): Promise<Peer> {
  return serve((sock, peer) => {
    const pump = () => {
      while (write(sock, peer, Buffer.from(crypto.randomBytes(16 * 1024).map((b) => (b === 10 || b === 13 ? 0x41 : b)))))
        if (peer.sentBytes > 64 * 1024 * 1024) return;
      sock.once('drain', pump);
    };
    pump();
  });
}

/** A well-formed identification line followed by a binary packet stream that is garbage. */
export function garbageAfterIdentPeer(): Promise<Peer> {
  return serve((sock, peer) => {
    write(sock, peer, 'SSH-2.0-OpenSSH_9.6\r\n');
    write(sock, peer, Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xff]), crypto.randomBytes(4096)]));
  });
}

/** Pre-identification banner lines (which RFC 4253 allows), as fast as the client reads, never an identification. */
export function hugeBannerPeer(): Promise<Peer> {
  const line = `${'Welcome to a very talkative server. '.repeat(200).slice(0, 7000)}\r\n`;
  return serve((sock, peer) => {
    const pump = () => {
      while (write(sock, peer, line)) if (peer.sentBytes > 64 * 1024 * 1024) return;
      sock.once('drain', pump);
    };
    pump();
  });
}

/** Accepts and says nothing (slow-loris). */
export function silentPeer(): Promise<Peer> {
  return serve(() => undefined);
}

/** Trickles an identification one byte every `everyMs`, never finishing it. */
export function tricklePeer(everyMs = 500): Promise<Peer> {
  return serve((sock, peer) => {
    const text = `SSH-2.0-${'x'.repeat(10_000)}`;
    let i = 0;
    const t = setInterval(() => {
      if (sock.destroyed || i >= text.length) return clearInterval(t);
      write(sock, peer, text[i++]!);
    }, everyMs);
    sock.on('close', () => clearInterval(t));
  });
}

/** A real SSH server with a key of its own (an impostor): records whether anyone tried to log in to it. */
export function impostorSshPeer(): Promise<Peer & { authAttempts: number }> {
  const hostKey = utils.generateKeyPairSync('ed25519').private;
  const server = new SshServer({ hostKeys: [hostKey] }, (client) => {
    peer.connections += 1;
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      peer.authAttempts += 1;
      ctx.reject();
    });
  });
  const peer = {
    port: 0,
    connections: 0,
    receivedBytes: 0,
    sentBytes: 0,
    authAttempts: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      peer.port = (server.address() as net.AddressInfo).port;
      resolve(peer);
    });
  });
}

/**
 * A forwarder to a real sshd that cuts a connection once `cutAfter` bytes have come back from the server on
 * it: the source dropping in the middle of a listing or a copy. `cuts` counts the connections it cut.
 */
export function droppingProxy(targetPort: number, cutAfter: number): Promise<Peer & { cuts: number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    peer.connections += 1;
    const up = net.connect(targetPort, '127.0.0.1');
    sockets.add(c).add(up);
    let down = 0;
    const drop = () => (c.destroy(), up.destroy());
    c.on('data', (d) => up.write(d));
    up.on('data', (d) => {
      down += d.length;
      if (down > cutAfter) {
        peer.cuts += 1;
        c.write(d.subarray(0, d.length - (down - cutAfter)));
        c.resetAndDestroy();
        up.destroy();
        return;
      }
      c.write(d);
    });
    c.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
  });
  const peer = {
    port: 0,
    connections: 0,
    receivedBytes: 0,
    sentBytes: 0,
    cuts: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      peer.port = (server.address() as net.AddressInfo).port;
      resolve(peer);
    });
  });
}
