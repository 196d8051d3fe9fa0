import fs from 'node:fs';
import type { HostingNode, StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree, greets220 } from '../ports';
import { renderEximConfig } from './exim-config';
import { mailLayout } from '../../activities/mail-layout';
import { ensureDefaultPair } from '../../activities/mail-tls';
import { eximGid, eximUid } from '../../activities/system-ids';
import { initMailLayout } from './mail-dirs';

/**
 * Starts Exim for one hosting node in the foreground (`-bdf`: daemon, no fork to background) with a private
 * config, spool and logs. `-q1m` runs the queue each minute, so mail that Dovecot deferred (e.g. while it
 * restarted) is retried without a system cron.
 */
export async function startExim(ctx: StackContext, node: HostingNode): Promise<RunningDaemon> {
  const layout = mailLayout(node);
  const name = node.id === ctx.nodeId ? 'exim' : `exim-${node.id}`;
  await assertPortsFree(name, [node.ports.smtp, node.ports.submission]);
  initMailLayout(layout);
  fs.mkdirSync(layout.eximDir, { recursive: true, mode: 0o755 });
  // Under -C Exim gives up root and runs as Debian-exim: it must own its spool (it makes input/, db/, msglog/
  // itself) and log folders.
  for (const dir of [layout.eximSpool, layout.eximLogDir]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    fs.chownSync(dir, eximUid(), eximGid());
  }
  const hostname = `mail-${node.id}.npanel.test`;
  await ensureDefaultPair({ dir: layout.tlsDir, eximGid: eximGid() }, hostname);
  const conf = renderEximConfig({
    layout,
    smtpPort: node.ports.smtp,
    submissionPort: node.ports.submission,
    lmtpPort: node.ports.lmtp,
    hostname,
  });
  fs.writeFileSync(layout.eximConf, conf, { mode: 0o644 });
  // A pid file left by a killed daemon would only confuse operators reading it.
  fs.rmSync(layout.eximPidFile, { force: true });

  return startDaemon({
    name,
    command: 'exim4',
    args: ['-C', layout.eximConf, '-bdf', '-q1m'],
    logDir: ctx.logDir,
    ready: async () => (await greets220(node.ports.smtp)) && (await greets220(node.ports.submission)),
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 5_000,
  });
}
