import { z } from 'zod';
import { usernameSchema } from './names';

const label = z.string().trim().min(1).max(255).optional();

/** A required field whose absence is reported with `message` (zod's own would say "expected string"). */
function requiredAs<T extends z.ZodType>(schema: T, message: string) {
  return z.preprocess((value, ctx) => {
    if (value !== undefined) return value;
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  }, schema);
}

/**
 * A new API token: the one contract of `bin/npanel token create` and `POST /api/v1/tokens`. One shape per role,
 * so the published schema says what the role needs (OpenAPI `oneOf` on `role`): a customer token names its
 * account, an admin token is bound to none (`account` is refused with its own message, not as an unknown key).
 */
export const tokenCreateInput = z.discriminatedUnion(
  'role',
  [
    z
      .object({
        role: z.literal('admin'),
        account: z.never({ error: 'an admin token is not bound to an account' }).optional(),
        label,
      })
      .strict(),
    z
      .object({
        role: z.literal('customer'),
        account: requiredAs(usernameSchema, 'a customer token needs an account'),
        label,
      })
      .strict(),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'must be admin or customer' : undefined) },
);

export type TokenCreateInput = z.infer<typeof tokenCreateInput>;
