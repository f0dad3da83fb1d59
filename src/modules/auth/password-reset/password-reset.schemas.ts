import { Type, type Static } from 'typebox';
import { Email, Password, StrictObject, Str } from '../../../lib/schema.js';

export const ForgotPasswordBody = StrictObject({ email: Email });
export type ForgotPasswordInput = Static<typeof ForgotPasswordBody>;

/** One fixed answer whether or not the account exists: the body reveals nothing. */
export const ForgotPasswordAccepted = Type.Object({
  status: Type.Literal('accepted'),
  message: Type.String(),
});

export const ResetPasswordBody = StrictObject({
  // Tokens are 43 base64url characters; the bound only keeps garbage cheap to refuse.
  token: Str({ minLength: 1, maxLength: 200 }),
  new_password: Password,
});
export type ResetPasswordInput = Static<typeof ResetPasswordBody>;
