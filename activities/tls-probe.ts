import tls from 'node:tls';

/**
 * What a browser would get: a TLS handshake with SNI against the node's nginx, returning the leaf
 * certificate's serial (upper-case hex, like the inventory and `openssl x509 -serial`). Trust is not checked
 * here on purpose: the question is WHICH certificate nginx serves, not whether the client trusts it.
 */
export function servedCertificate(
  host: string,
  port: number,
  servername: string,
  timeoutMs = 5000,
): Promise<{ serial: string; issuer: string; notAfter: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (!cert || !cert.serialNumber) {
        reject(new Error(`no certificate served for ${servername} on ${host}:${port}`));
        return;
      }
      const issuer = Object.entries(cert.issuer ?? {})
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ');
      resolve({ serial: cert.serialNumber.toUpperCase(), issuer, notAfter: new Date(cert.valid_to).toISOString() });
    });
    socket.on('timeout', () => socket.destroy(new Error(`TLS handshake with ${host}:${port} (${servername}) timed out`)));
    socket.on('error', reject);
  });
}
