import { defineConfig } from 'drizzle-kit';

/**
 * `npx drizzle-kit generate` writes SQL migrations from db/schema into db/migrations (no database needed).
 * The app applies them itself at start-up (db/migrate.ts), so no credentials live here.
 */
export default defineConfig({
  dialect: 'mysql',
  schema: './db/schema',
  out: './db/migrations',
  strict: true,
  verbose: true,
});
