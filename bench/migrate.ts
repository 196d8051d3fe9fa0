import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sshConnect, type SshTarget } from '../activities/ssh-connect';
import { filesFromList } from '../activities/transfer-manifest';
import { rsyncPull } from '../activities/transfer-rsync';
import { remoteManifest } from '../activities/transfer-sync';
import type { StackFile } from '../stack/stack-file';

/**
 * Migration transfer benchmark against a running stack's SSH source (loopback):
 *
 *   node dist/bench/migrate.js --home /work/trial-X [--mib 1024] [--files 10000]
 *
 * Generates the data set (random bytes) in a temp folder on the source side, then in one run: plain
 * `rsync -a` over OpenSSH (the yardstick), NPanel's copy (manifest over ssh2 + rsync with a pinned key, as the
 * activity runs it, checksums timed apart), a delta after changing 1% of the files, and a resume after a kill
 * at ~50%. Prints a table and writes bench/results/migrate.json; removes the data set.
 */

const run = promisify(execFile);
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};

interface Figure { name: string; goal: number; measured: number; unit: string; ratio: number; ok: boolean }

function dirBytes(root: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.isFile()) n += fs.statSync(f).size;
    }
  };
  if (fs.existsSync(root)) walk(root);
  return n;
}

async function main(): Promise<void> {
  const home = path.resolve(arg('home', '.npanel'));
  const mib = Number(arg('mib', '1024'));
  const files = Number(arg('files', '10000'));
  const stack = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')) as StackFile;
  const s = stack.migrationSource;
  const target: SshTarget = { host: s.host, port: s.port, user: s.user, privateKey: fs.readFileSync(s.privateKey, 'utf8'), hostKeyFingerprint: s.hostKeyFingerprint };
  const work = fs.mkdtempSync(path.join(home, 'source', 'sites', 'bench-'));
  fs.chmodSync(work, 0o755);
  const src = path.join(work, 'public_html');
  const out = path.join(home, 'bench-migrate');
  try {
    const size = Math.floor((mib * 1024 * 1024) / files);
    for (let i = 0; i < files; i++) {
      const f = path.join(src, `d${i % 100}`, `f ${i}.bin`);
      if (i < 100) fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, crypto.randomBytes(size));
    }
    const total = size * files;
    fs.rmSync(out, { recursive: true, force: true });
    const dest = (n: string) => (fs.mkdirSync(path.join(out, n), { recursive: true }), path.join(out, n));
    const tmp = dest('tmp');
    const sshE = `ssh -p ${s.port} -i ${s.privateKey} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
    const baseline = async (d: string) => {
      const t0 = performance.now();
      await run('rsync', ['-a', '-e', sshE, `${s.user}@${s.host}:${src}/`, `${d}/`], { maxBuffer: 1 << 26 });
      return (performance.now() - t0) / 1000;
    };
    const ours = async (d: string, signal?: AbortSignal) => {
      const t0 = performance.now();
      const session = await sshConnect(target);
      const manifest = await remoteManifest(session, src);
      session.end();
      const r = await rsyncPull({ target, hostKey: session.hostKey, remoteDir: src, localDir: d, filesFrom: filesFromList(manifest), tempDir: tmp, owner: { uid: 2000, gid: 2000 }, signal });
      return { s: (performance.now() - t0) / 1000, literal: r.literalBytes };
    };
    const rsyncFirst = await baseline(dest('rsync'));
    const oursFirst = await ours(dest('ours'));
    // Delta: change 1% of the files (new random content, same size).
    for (let i = 0; i < files; i += 100) fs.writeFileSync(path.join(src, `d${i % 100}`, `f ${i}.bin`), crypto.randomBytes(size));
    const rsyncDelta = await baseline(path.join(out, 'rsync'));
    const oursDelta = await ours(path.join(out, 'ours'));
    // Resume: kill the copy at ~50%, then run again.
    const resumeDir = dest('resume');
    const ac = new AbortController();
    const watch = setInterval(() => dirBytes(resumeDir) > total / 2 && ac.abort(), 100);
    await ours(resumeDir, ac.signal).catch(() => undefined);
    clearInterval(watch);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
    const before = dirBytes(resumeDir);
    const resumed = await ours(resumeDir);
    const resent = Math.max(0, resumed.literal - (total - before));

    const mb = total / 1e6;
    const figures: Figure[] = [
      { name: 'first copy throughput vs rsync', goal: 0.95, measured: +(mb / oursFirst.s / (mb / rsyncFirst)).toFixed(3), unit: 'x rsync', ratio: 0, ok: false },
      { name: 'delta (1% changed) time vs rsync', goal: 2, measured: +(oursDelta.s / rsyncDelta).toFixed(3), unit: 'x rsync', ratio: 0, ok: false },
      { name: 'resume after kill at ~50%: bytes re-sent', goal: 0.1, measured: +(resent / total).toFixed(4), unit: 'fraction of total', ratio: 0, ok: false },
    ];
    figures[0]!.ratio = +(figures[0]!.measured / 0.95).toFixed(3);
    figures[0]!.ok = figures[0]!.measured >= 0.95;
    for (const f of figures.slice(1)) {
      f.ratio = +(f.measured / f.goal).toFixed(3);
      f.ok = f.measured <= f.goal;
    }
    console.log(`data: ${files} files, ${mb.toFixed(0)} MB; rsync first ${rsyncFirst.toFixed(2)} s (${(mb / rsyncFirst).toFixed(0)} MB/s), ours ${oursFirst.s.toFixed(2)} s (${(mb / oursFirst.s).toFixed(0)} MB/s); delta rsync ${rsyncDelta.toFixed(2)} s, ours ${oursDelta.s.toFixed(2)} s; resume: ${before} bytes in place at the kill, ${resumed.literal} sent after`);
    console.table(figures);
    const file = path.join(__dirname, '..', '..', 'bench', 'results', 'migrate.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ figures, measuredAt: new Date().toISOString() }, null, 2) + '\n');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
