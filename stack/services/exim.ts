import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { HostingNode, StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree, greets220 } from '../ports';
import { renderEximConfig } from './exim-config';
import { mailLayout, type MailLayout } from '../../activities/mail-layout';
import { eximGid, eximUid, initMailLayout } from './mail-dirs';

const run = promisify(execFile);

/**
 * Makes the never-offered TLS pair once (EC P-256: instant, where RSA costs ~0.1 s), readable only by the
 * Exim user. Kept across restarts.
 */
async function ensureTlsPair(layout: MailLayout, hostname: string): Promise<void> {
  if (fs.existsSync(layout.eximTlsCert) && fs.existsSync(layout.eximTlsKey)) return;
  await run('openssl', [
    'req', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-keyout', layout.eximTlsKey, '-out', layout.eximTlsCert, '-days', '3650', '-subj', `/CN=${hostname}`,
  ], { timeout: 10_000 });
  fs.chownSync(layout.eximTlsKey, eximUid(), eximGid());
  fs.chmodSync(layout.eximTlsKey, 0o600);
  fs.chmodSync(layout.eximTlsCert, 0o644);
}


/**
 * Starts Exim for one hosting node in the foreground (`-bdf`: daemon, no fork to background) with a private
 * config, spool and logs. `-q1m` runs the queue each minute, so mail that Dovecot deferred (e.g. while it
 * restarted) is retried without a system cron.
 */
export async function startExim(ctx: StackContext, node: HostingNode): Promise<RunningDaemon> {
  const layout = mailLayout(node);
  const name = node.id === ctx.nodeId ? 'exim' : `exim-${node.id}`;
  await assertPortsFree(name, [node.ports.smtp]);
  initMailLayout(layout);
  fs.mkdirSync(layout.eximDir, { recursive: true, mode: 0o755 });
  // Under -C Exim gives up root and runs as Debian-exim: it must own its spool (it makes input/, db/, msglog/
  // itself) and log folders.
  for (const dir of [layout.eximSpool, layout.eximLogDir]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    fs.chownSync(dir, eximUid(), eximGid());
  }
  const hostname = `mail-${node.id}.npanel.test`;
  await ensureTlsPair(layout, hostname);
  const conf = renderEximConfig({ layout, smtpPort: node.ports.smtp, lmtpPort: node.ports.lmtp, hostname });
  fs.writeFileSync(layout.eximConf, conf, { mode: 0o644 });
  // A pid file left by a killed daemon would only confuse operators reading it.
  fs.rmSync(layout.eximPidFile, { force: true });

  return startDaemon({
    name,
    command: 'exim4',
    args: ['-C', layout.eximConf, '-bdf', '-q1m'],
    logDir: ctx.logDir,
    ready: () => greets220(node.ports.smtp),
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 5_000,
  });
}
