import { z } from 'zod';
import { usernameSchema } from './names';

/** A new API token: the one contract of `bin/npanel token create` and `POST /api/v1/tokens`. */
export const tokenCreateInput = z
  .object({
    role: z.enum(['admin', 'customer']),
    account: usernameSchema.optional(),
    label: z.string().trim().min(1).max(255).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.role === 'customer' && !v.account) ctx.addIssue({ code: 'custom', path: ['account'], message: 'a customer token needs an account' });
    if (v.role === 'admin' && v.account) ctx.addIssue({ code: 'custom', path: ['account'], message: 'an admin token is not bound to an account' });
  });

export type TokenCreateInput = z.infer<typeof tokenCreateInput>;
