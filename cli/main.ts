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

const USAGE = `usage: npanel <command>
  up [--detach] [--home DIR] [--port-base N] [--with-node-b]   start the embedded stack (foreground; Ctrl-C stops)
  down [--home DIR]                                            stop a stack started with up --detach
  status [--home DIR]                                          each service and whether it answers
  test [--only SUBSTRING] [--home DIR] [--port-base N]         every test, on a private stack (default .npanel-test, 27100)
  token create --role admin|customer [--account NAME] | token revoke ID | token list   [--home DIR]
  bench [--only SUBSTRING] [--port-base N]                     every bench/ script, one table + bench/results/all.json (ports from 30100)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const { values } = parseArgs(rest, { detach: 'boolean', home: 'string', 'port-base': 'string', 'with-node-b': 'boolean' });
      await up({
        home: path.resolve((values.home as string) ?? defaultHome()),
        portBase: portBase(values['port-base'], DEV_PORT_BASE),
        detach: values.detach === true,
        withNodeB: values['with-node-b'] === true,
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
      return test({
        home: path.resolve((values.home as string) ?? process.env.NPANEL_TEST_HOME ?? path.join(repoRoot(), '.npanel-test')),
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
    default:
      process.stderr.write(USAGE);
      return command ? 2 : 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`npanel: ${err.message}\n`);
    process.exit(1);
  },
);
