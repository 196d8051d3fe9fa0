import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { repoRoot } from '../../config/load';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

/** Every file of the UI, read and gzipped once at start: the UI is a few small files, memory is cheaper than disk. */
export function loadWebAssets(dir = path.join(repoRoot(), 'web')): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    const body = fs.readFileSync(path.join(dir, name));
    const etag = `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    assets.set(name, { type, body, gzip: zlib.gzipSync(body, { level: 9 }), etag });
  }
  return assets;
}

function serve(asset: Asset, request: FastifyRequest, reply: FastifyReply) {
  // Revalidate every time (cheap 304 with the ETag): a new deploy is seen at once, no stale UI against a new API.
  reply.header('cache-control', 'no-cache').header('etag', asset.etag).header('vary', 'accept-encoding').type(asset.type);
  if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.body);
}

/**
 * The web UI, served by the API from `web/` (plain ES modules and CSS: no build step, no runtime downloads).
 * `/` is the unified console; `/admin/` and `/portal/` are the same page under the admin and customer portal
 * paths, which nginx's role-specific ports allow or refuse.
 */
export async function webPlugin(app: FastifyInstance, opts: { dir?: string }) {
  const assets = loadWebAssets(opts.dir);
  const index = assets.get('index.html');
  if (!index) throw new Error('web/index.html is missing');
  for (const url of ['/', '/admin/', '/portal/']) {
    app.get(url, { config: { access: 'public' } }, async (request, reply) => serve(index, request, reply));
  }
  app.get('/admin', { config: { access: 'public' } }, async (_request, reply) => reply.redirect('/admin/'));
  app.get('/portal', { config: { access: 'public' } }, async (_request, reply) => reply.redirect('/portal/'));
  app.get('/web/:file', { config: { access: 'public' } }, async (request, reply) => {
    const asset = assets.get((request.params as { file: string }).file);
    if (!asset) return reply.status(404).send({ error: 'not_found', message: 'no such file' });
    return serve(asset, request, reply);
  });
}
