import net from 'node:net';

/**
 * A socket that buffers what the server sent and lets a client wait until a parser finds a complete reply.
 * Bytes are kept as latin1 text (one char per byte), so IMAP literal lengths, which count bytes, stay exact.
 */
export class LineSocket {
  private buffer = '';
  private waiter: (() => void) | undefined;
  private closed: Error | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.waiter?.();
    });
    const end = (err?: Error) => {
      this.closed ??= err ?? new Error('connection closed by server');
      this.waiter?.();
    };
    socket.on('error', end);
    socket.on('close', () => end());
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<LineSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new LineSocket(socket, timeoutMs));
      });
    });
  }

  write(text: string): void {
    this.socket.write(Buffer.from(text, 'latin1'));
  }

  /**
   * Waits until `parse` finds a complete reply at the start of the buffer; it returns the reply and how many
   * chars it used, or undefined to wait for more data.
   */
  async read<T>(parse: (buffer: string) => { value: T; used: number } | undefined): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const found = parse(this.buffer);
      if (found) {
        this.buffer = this.buffer.slice(found.used);
        return found.value;
      }
      if (this.closed) throw new Error(`${this.closed.message}; unparsed: ${JSON.stringify(this.buffer.slice(0, 200))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete reply within ${this.timeoutMs} ms; got: ${JSON.stringify(this.buffer.slice(0, 200))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
