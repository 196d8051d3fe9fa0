import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sshConnect, type SshTarget } from '../activities/ssh-connect';
import { syncTree, type SyncHooks, type SyncResult } from '../activities/transfer-sync';
import type { StackFile } from '../stack/stack-file';
import { dirBytes } from '../test/support/tree';
import { figure, figureRows, formatTable, median, writeResults } from './common';
import { defaultHome } from '../cli/paths';

/**
 * Migration transfer benchmark against a running stack's SSH source (loopback):
 *
 *   node dist/bench/migrate.js --home /work/trial-X [--mib 1024] [--files 10000] [--first-rounds 5] [--repeat 3]
 *
 * Generates the data set (random bytes) in a temp folder on the source side, then in one run: plain
 * `rsync -a` over OpenSSH (the yardstick) against the activity's own code (`syncTree`: ssh2 listing, rsync
 * with a pinned key, verification), for `--first-rounds` first copies (verification timed apart: rsync -a
 * verifies nothing),
 * for `--repeat` delta passes after changing 1% of the files each (everything timed, verification included;
 * the order of the two alternates, and the figure is the median of the per-round ratios, because this machine
 * is shared and noisy), and for a resume after a kill at ~50%. Writes bench/results/migrate.json.
 */

const run = promisify(execFile);
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const secs = (ms: number) => +(ms / 1000).toFixed(3);

async function main(): Promise<void> {
  const home = path.resolve(arg('home', defaultHome()));
  const mib = Number(arg('mib', '1024'));
  const files = Number(arg('files', '10000'));
  const repeat = Number(arg('repeat', '3'));
  const stack = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')) as StackFile;
  const s = stack.migrationSource;
  const target: SshTarget = {
    host: s.host,
    port: s.port,
    user: s.user,
    privateKey: fs.readFileSync(s.privateKey, 'utf8'),
    hostKeyFingerprint: s.hostKeyFingerprint,
  };
  const work = fs.mkdtempSync(path.join(home, 'source', 'sites', 'bench-'));
  fs.chmodSync(work, 0o755);
  const src = path.join(work, 'public_html');
  const out = path.join(home, 'bench-migrate');
  const file = (i: number) => path.join(src, `d${i % 100}`, `f ${i}.bin`);
  try {
    const size = Math.floor((mib * 1024 * 1024) / files);
    for (let i = 0; i < files; i++) {
      if (i < 100) fs.mkdirSync(path.dirname(file(i)), { recursive: true });
      fs.writeFileSync(file(i), crypto.randomBytes(size));
    }
    const total = size * files;
    fs.rmSync(out, { recursive: true, force: true });
    const dest = (n: string) => (fs.mkdirSync(path.join(out, n), { recursive: true }), path.join(out, n));
    const sshE = `ssh -p ${s.port} -i ${s.privateKey} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
    const baseline = async (d: string) => {
      const t0 = performance.now();
      await run('rsync', ['-a', '-e', sshE, `${s.user}@${s.host}:${src}/`, `${d}/`], { maxBuffer: 1 << 26 });
      return performance.now() - t0;
    };
    // The workflow's preflight verifies the host key before any copy and hands it to the copy steps; here
    // that preflight is this one login, outside the timings.
    const pre = await sshConnect(target);
    const hostKey = pre.hostKey;
    pre.end();
    const hooks = (signal?: AbortSignal): SyncHooks => ({ attempt: 1, resumedFrom: null, heartbeat: () => undefined, signal });
    const ours = async (d: string, pass: 'initial' | 'delta', signal?: AbortSignal): Promise<{ ms: number; r: SyncResult }> => {
      const t0 = performance.now();
      const r = await syncTree(
        { source: target, remoteDir: src, localDir: d, pass, owner: { uid: 2000, gid: 2000 }, hostKey },
        (x) => x,
        hooks(signal),
      );
      return { ms: performance.now() - t0, r };
    };

    // First copies: `--first-rounds` rounds (default 5), the order alternating, each into a new empty folder
    // after `sync`. Measured on this machine: a copy that starts while the kernel still writes back the previous
    // copy's gigabyte pays for it, and one that starts after deleting earlier copies pays for the deletion
    // (ext4 mounted with `discard` trims the freed blocks then); either made whoever ran second in a pair up to
    // 1.7x slower. So nothing is deleted until the end, and the figure is the median ratio of the rounds.
    const firstRounds = Number(arg('first-rounds', '5'));
    const settle = async () => {
      await run('sync');
    };
    const firsts: { rsyncS: number; oursS: number; ratio: number; listS: number; copyS: number; verifyS: number }[] = [];
    let oursFirst!: Awaited<ReturnType<typeof ours>>;
    let rsyncFirst = 0;
    for (let k = 0; k < firstRounds; k++) {
      let rs = 0;
      const last = k === firstRounds - 1;
      // The last round's copies keep the plain names: the delta rounds below continue from them.
      const runRsync = async () => {
        await settle();
        rs = await baseline(dest(last ? 'rsync' : `rsync-${k}`));
      };
      const runOurs = async () => {
        await settle();
        oursFirst = await ours(dest(last ? 'ours' : `ours-${k}`), 'initial');
      };
      if (k % 2 === 0) {
        await runRsync();
        await runOurs();
      } else {
        await runOurs();
        await runRsync();
      }
      const t = oursFirst.r.timings;
      const oursMs = t.listMs + t.copyMs;
      firsts.push({
        rsyncS: secs(rs),
        oursS: secs(oursMs),
        ratio: +(oursMs / rs).toFixed(3),
        listS: secs(t.listMs),
        copyS: secs(t.copyMs),
        verifyS: secs(t.verifyMs),
      });
      rsyncFirst = rs;
    }
    const firstRatio = median(firsts.map((f) => f.ratio));
    const firstCopyMs = oursFirst.r.timings.listMs + oursFirst.r.timings.copyMs;

    const rounds: {
      rsyncS: number;
      oursS: number;
      ratio: number;
      listS: number;
      copyS: number;
      verifyS: number;
      copied: number;
      checksummed: number;
    }[] = [];
    for (let k = 0; k < repeat; k++) {
      // 1% of the files get new random content (same size); another 1% each round.
      for (let i = k; i < files; i += 100) fs.writeFileSync(file(i), crypto.randomBytes(size));
      let rs: number;
      let o: Awaited<ReturnType<typeof ours>>;
      if (k % 2 === 0) {
        rs = await baseline(path.join(out, 'rsync'));
        o = await ours(path.join(out, 'ours'), 'delta');
      } else {
        o = await ours(path.join(out, 'ours'), 'delta');
        rs = await baseline(path.join(out, 'rsync'));
      }
      const t = o.r.timings;
      rounds.push({
        rsyncS: secs(rs),
        oursS: secs(o.ms),
        ratio: +(o.ms / rs).toFixed(3),
        listS: secs(t.listMs),
        copyS: secs(t.copyMs),
        verifyS: secs(t.verifyMs),
        copied: o.r.copiedFiles,
        checksummed: o.r.checksummed,
      });
    }

    // Resume: kill the copy at ~50%, then run again.
    const resumeDir = dest('resume');
    const ac = new AbortController();
    const watch = setInterval(() => dirBytes(resumeDir) > total / 2 && ac.abort(), 100);
    await ours(resumeDir, 'initial', ac.signal).catch(() => undefined);
    clearInterval(watch);
    const before = dirBytes(resumeDir);
    const resumed = await ours(resumeDir, 'initial');
    const resent = Math.max(0, resumed.r.literalBytes - (total - before));

    const mb = total / 1e6;
    const figures = [
      figure(
        `first copy time vs rsync -a (1/0.95: throughput >= 0.95x), median of ${firstRounds}`,
        1 / 0.95,
        +firstRatio.toFixed(3),
        'x rsync',
      ),
      figure(`delta (1% changed, verified) time vs rsync -a, median of ${repeat}`, 2, median(rounds.map((r) => r.ratio)), 'x rsync'),
      figure('resume after kill at ~50%: bytes re-sent', 0.1, resent / total, 'of total'),
    ];
    console.log(
      `data: ${files} files, ${mb.toFixed(0)} MB; first copy: rsync ${secs(rsyncFirst)} s (${(mb / (rsyncFirst / 1000)).toFixed(0)} MB/s), ours ${secs(firstCopyMs)} s (listing ${secs(oursFirst.r.timings.listMs)} s) + verification of all ${oursFirst.r.checksummed} files ${secs(oursFirst.r.timings.verifyMs)} s`,
    );
    console.log('first copy rounds (seconds; verification not in the ratio):');
    console.table(firsts);
    console.log('delta rounds (seconds):');
    console.table(rounds);
    console.log(`resume: ${before} bytes in place at the kill, ${resumed.r.literalBytes} sent after`);
    process.stdout.write(formatTable(figureRows(figures)));
    writeResults('migrate', figures, { files, bytes: total, firsts, rounds, resume: { before, sentAfter: resumed.r.literalBytes } });
    if (figures.some((f) => !f.ok)) process.exitCode = 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
