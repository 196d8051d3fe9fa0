import { z } from 'zod';

/** `dns.apiUrl` -> `NPANEL_DNS_API_URL`: one rule, so operators can guess every variable from the schema. */
export function envName(path: (string | number)[]): string {
  return (
    'NPANEL_' +
    path
      .map((p) => String(p).replace(/([a-z0-9])([A-Z])/g, '$1_$2'))
      .join('_')
      .toUpperCase()
  );
}

/** Leaf paths of a zod object schema; temporal.yaml's own keys are skipped except those listed. */
export function leafPaths(schema: z.ZodTypeAny, prefix: string[] = []): string[][] {
  // An optional group (temporal.tls) has variables of its own: all of them set, or none.
  if (schema instanceof z.ZodOptional && schema.unwrap() instanceof z.ZodObject) return leafPaths(schema.unwrap() as z.ZodTypeAny, prefix);
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodTypeAny>).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
  }
  return [prefix];
}

/** Array-valued keys come from the environment as comma-separated lists. */
export function isArraySchema(schema: z.ZodTypeAny): boolean {
  let s: z.ZodTypeAny = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodTypeAny;
  return s instanceof z.ZodArray;
}

export function schemaAt(schema: z.ZodTypeAny, path: string[]): z.ZodTypeAny {
  const object = (s: z.ZodTypeAny) => (s instanceof z.ZodOptional ? (s.unwrap() as z.ZodTypeAny) : s) as z.ZodObject<z.ZodRawShape>;
  return path.reduce<z.ZodTypeAny>((s, key) => object(s).shape[key] as z.ZodTypeAny, schema);
}
