import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { AppDeps } from '../../api/deps';
import type { Principal } from '../../api/auth';
import { AccountConflictError, type Repositories } from '../../db/repositories';

/**
 * Dependencies for `buildApp` + `app.inject` tests of the HTTP layer alone (auth, roles, errors, schemas): no
 * stack. Temporal records the workflows the API starts; the repositories answer from a small in-memory table
 * and throw on any method a test did not expect, so a test shows every inventory call a route makes.
 */
export interface StartedWorkflow {
  type: string;
  options: { taskQueue: string; workflowId: string; args: unknown[] };
}

export const TOKENS: Record<string, Principal> = {
  'admin-token-1234': { tokenId: 1, role: 'admin', account: null },
  'alice-token-1234': { tokenId: 2, role: 'customer', account: 'alice' },
  'bob-token-12345': { tokenId: 3, role: 'customer', account: 'bob' },
};

export interface FakeAccount {
  username: string;
  domain: string;
  nodeId: string;
  status: string;
}

export function fakeApiDeps(accounts: FakeAccount[] = []) {
  const started: StartedWorkflow[] = [];
  const repoCalls: string[] = [];
  const rows = new Map(
    accounts.map((a) => [a.username, { ...a, id: 1, workflowId: `provision-${a.username}`, createdAt: new Date('2026-01-01T00:00:00Z') }]),
  );
  const impl: Record<string, Record<string, (...args: never[]) => unknown>> = {
    nodes: { get: async (id: string) => (id === 'n1' ? { id: 'n1', ip: '192.0.2.10' } : null) },
    accounts: {
      // Honours the customer scope the route passes, as the real repository does.
      page: async (filter: { account?: string }) => [...rows.values()].filter((r) => !filter.account || r.username === filter.account),
      getResources: async (username: string) => {
        const account = rows.get(username);
        return account
          ? { account, domains: [{ name: account.domain }], mailboxes: [], ftpUsers: [], databases: [], certificates: [] }
          : null;
      },
      // The unique keys of the real table: a taken username or domain is the repository's AccountConflictError.
      reserve: async (a: FakeAccount & { workflowId: string }) => {
        for (const r of rows.values()) {
          if (r.username === a.username) throw new AccountConflictError('username', a.username, r.workflowId, r.username);
          if (r.domain === a.domain) throw new AccountConflictError('domain', a.domain, r.workflowId, r.username);
        }
        rows.set(a.username, { ...a, status: 'provisioning', id: 2, createdAt: new Date() });
      },
      remove: async (username: string) => void rows.delete(username),
      recordDatabase: async () => undefined,
    },
    names: { claim: async () => undefined },
  };
  const repos = new Proxy(
    {},
    {
      get: (_t, group: string) =>
        new Proxy(
          {},
          {
            get: (_g, method: string) => {
              const fn = impl[group]?.[method];
              if (!fn) throw new Error(`unexpected inventory call repos.${group}.${method}`);
              return (...args: never[]) => (repoCalls.push(`${group}.${method}`), fn(...args));
            },
          },
        ),
    },
  ) as Repositories;
  const temporal = {
    workflow: {
      start: async (type: string, options: StartedWorkflow['options']) => {
        started.push({ type, options });
        return { workflowId: options.workflowId };
      },
    },
  } as unknown as Client;
  const verifyToken = async (plain: string) => TOKENS[plain] ?? null;
  const identity = async (payloads: Payload[]) => payloads;
  const deps: AppDeps = {
    temporal,
    namespace: 'default',
    temporalUiUrl: 'http://127.0.0.1:1',
    codec: { encode: identity, decode: identity },
    verifyToken,
    repos,
    defaultNode: 'n1',
    checks: {},
  };
  return { deps, started, repoCalls, rows };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
