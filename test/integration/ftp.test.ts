import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadStack } from '../support/stack';

const execFileP = promisify(execFile);
const stack = loadStack();

/** Every FTP server of the stack: node a's port is top-level, extra nodes are under `nodes`. */
const servers: Array<[string, number]> = [
  ['a', stack.file.ftp],
  ...Object.entries(stack.file.nodes ?? {}).map(([id, n]): [string, number] => [id, n.ftp]),
];

/** Reads the greeting, then says QUIT and reads the goodbye: a real FTP dialogue, not just an open port. */
function dialogue(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let text = '';
    let quitSent = false;
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (!quitSent && /(^|\n)220 /.test(text)) {
        quitSent = true;
        socket.write('QUIT\r\n');
      }
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(text));
  });
}

for (const [id, port] of servers) {
  test(`node ${id}: Pure-FTPd greets with 220 and says goodbye with 221`, async () => {
    const text = await dialogue(port);
    assert.match(text, /(^|\n)220 /);
    assert.match(text, /(^|\n)221[ -]/);
  });
}

test('anonymous FTP is refused', async () => {
  await assert.rejects(execFileP('curl', ['-sS', '--max-time', '20', `ftp://127.0.0.1:${stack.file.ftp}/`]), (err: { stderr?: string }) =>
    /530|Access denied/.test(err.stderr ?? ''),
  );
});
