import path from 'node:path';
import { repoRoot } from '../config/load';
import { parseArgs } from './args';
import { bench } from './bench';
import { down } from './down';
import { DEV_PORT_BASE, TEST_PORT_BASE, defaultHome, portBase } from './paths';
import { status } from './status';
import { test } from './test';
import { token } from './token';
import { up } from './up';
import { CLONES_STATE_DIR, stackHome, stateRoot } from '../stack/state-home';
import { TEMPORAL_MODES, type TemporalMode } from '../stack/temporal-target';

const USAGE = `usage: bin/npanel <command> [flags]

  up [--detach] [--home DIR] [--port-base N] [--with-node-b] [--temporal dev|cluster]
      Start the embedded stack: every daemon, the worker and the API + web UI, on 127.0.0.1 (foreground;
      Ctrl-C stops everything). Prints the UI and Temporal Web URLs and an admin token.
      --detach         run in the background; returns once the stack is ready (stop it with down)
      --home DIR       where the stack keeps its state (default .npanel in the clone, or under
                       ${CLONES_STATE_DIR}/<id> when the daemons cannot reach the clone, e.g. in /root or /tmp;
                       at most 57 bytes long, for the Unix sockets below it)
      --port-base N    first of the 60 ports the stack uses, 69 with --temporal cluster (default ${DEV_PORT_BASE})
      --with-node-b    also start a second hosting node (its own worker and task queue)
      --temporal MODE  dev (default): Temporal's dev server. cluster: a real Temporal server on a private
                       PostgreSQL, from deploy/temporal/config/production.yaml, frontend on mTLS (stack.json
                       temporal.tls has a client certificate); its binaries are built once from the Go module
                       proxy into /var/cache/npanel/go-tools or NPANEL_GO_TOOLS_CACHE (5-9 minutes, once)
  down [--home DIR]
      Stop a stack started with up --detach.
  status [--home DIR]
      Each service of a stack and whether it answers (exit 1 if one does not).
  test [--only SUBSTRING] [--home DIR] [--port-base N]
      Every test: unit tests, then integration and browser tests on a private stack that is stopped afterwards
      (default home .npanel-test, ports from ${TEST_PORT_BASE}, so it runs beside a running up).
      --only SUBSTRING run only the test files whose path contains SUBSTRING (unit, integration and e2e alike;
                       several, comma-separated: any of them)
  token create --role admin|customer [--account NAME] [--label TEXT] [--home DIR]
      Make an API token; only the token is printed.
  token revoke ID|FINGERPRINT|TOKEN [--home DIR]
      Revoke one live token.
  token list [--home DIR]
      Every token: id, role, account, fingerprint, state.
  bench [--only SUBSTRING] [--port-base N]
      Every bench/ script on stacks of its own (ports from 30100): one table of figures, written to
      bench/results/all.json. --only runs the scripts whose name contains SUBSTRING.
  help
      This text.

Environment: NPANEL_HOME (default home of up/down/status/token), NPANEL_TEST_HOME, NPANEL_PORT_BASE,
NPANEL_TEST_PORT_BASE, NPANEL_LOG_LEVEL, NPANEL_GO_TOOLS_CACHE.
`;

function temporalMode(value: string | boolean | undefined): TemporalMode {
  if (value === undefined) return 'dev';
  const mode = TEMPORAL_MODES.find((m) => m === value);
  if (!mode) throw new Error(`--temporal must be one of ${TEMPORAL_MODES.join(', ')}, got ${JSON.stringify(value)}`);
  return mode;
}

/** A default home outside the clone is said once, with why, so nobody looks for .npanel in the clone in vain. */
function sayWhereStateIs(explicitHome: unknown): void {
  const where = stateRoot();
  if (explicitHome === undefined && where.reason)
    process.stderr.write(`npanel: stack state lives in ${where.root} (the daemons cannot use the clone: ${where.reason})\n`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const { values } = parseArgs(rest, {
        detach: 'boolean',
        home: 'string',
        'port-base': 'string',
        'with-node-b': 'boolean',
        temporal: 'string',
      });
      if (!process.env.NPANEL_HOME) sayWhereStateIs(values.home);
      await up({
        home: path.resolve((values.home as string) ?? defaultHome()),
        portBase: portBase(values['port-base'], DEV_PORT_BASE),
        detach: values.detach === true,
        withNodeB: values['with-node-b'] === true,
        temporalMode: temporalMode(values.temporal),
      });
      return 0;
    }
    case 'down': {
      const { values } = parseArgs(rest, { home: 'string' });
      await down(path.resolve((values.home as string) ?? defaultHome()));
      return 0;
    }
    case 'status': {
      const { values } = parseArgs(rest, { home: 'string' });
      return (await status(path.resolve((values.home as string) ?? defaultHome()))) ? 0 : 1;
    }
    case 'test': {
      const { values } = parseArgs(rest, { only: 'string', 'port-base': 'string', home: 'string' });
      if (!process.env.NPANEL_TEST_HOME) sayWhereStateIs(values.home);
      return test({
        home: path.resolve((values.home as string) ?? process.env.NPANEL_TEST_HOME ?? stackHome('.npanel-test')),
        portBase: portBase(values['port-base'] ?? process.env.NPANEL_TEST_PORT_BASE, TEST_PORT_BASE),
        only: values.only as string | undefined,
      });
    }
    case 'token':
      return token(rest, defaultHome());
    case 'bench': {
      const { values } = parseArgs(rest, { only: 'string', 'port-base': 'string' });
      return bench({ portBase: portBase(values['port-base'], 30100), only: values.only as string | undefined });
    }
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`npanel: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`npanel: ${err.message}\n`);
    process.exit(1);
  },
);
