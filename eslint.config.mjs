// Lint: keeps workflow code deterministic. Workflow files may import only @temporalio/workflow, pure shared
// code (common/) and each other; activity code only as `import type`.
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.npanel*/**', 'web/static/**', 'db/migrations/**', '.tools/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {},
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflows must stay deterministic: no Node built-ins' })),
          patterns: [
            { group: ['node:*'], message: 'workflows must stay deterministic: no Node built-ins' },
            {
              group: [
                'mysql2',
                'mysql2/*',
                'drizzle-orm',
                'drizzle-orm/*',
                'ssh2',
                'pino',
                'pino/*',
                'prom-client',
                'fastify',
                'fastify*',
                'acme-client',
              ],
              message: 'no drivers, loggers or metrics in workflows (use log from @temporalio/workflow)',
            },
            {
              group: ['@temporalio/worker', '@temporalio/client', '@temporalio/activity'],
              message: 'workflows import only @temporalio/workflow',
            },
            {
              group: ['../activities', '../activities/*', '../../activities/*', '../db/*', '../lib/*', '../api/*', '../stack/*'],
              allowTypeImports: true,
              message: 'only `import type` from activities and other Node-side code',
            },
          ],
        },
      ],
    },
  },
);
