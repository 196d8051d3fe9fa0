/**
 * Every name rule, once: zod schemas for what the API receives (normalising what a user typed) and checks of
 * the stored form for activities and renderers. Workflows import only `import type` from here, or the pure
 * files directly (`database.ts`): `domain.ts` uses node:url.
 */
export * from './characters';
export * from './database';
export * from './domain';
export * from './mailbox';
export * from './node';
export * from './remote';
export * from './username';
