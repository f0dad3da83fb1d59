import { Type, type Static } from 'typebox';
import { Str, Uuid } from '../../../lib/schema.js';
import { RoleSchema } from '../../users/users.schemas.js';

/**
 * What the staff console receives when it signs in or refreshes: the access token (kept in the
 * page's memory only) and who signed in. Never a refresh token: that one travels only in the
 * HttpOnly `medcore_refresh` cookie (console.routes.ts).
 */
export const ConsoleSessionSchema = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ description: 'seconds' }),
    // The role is the effective one (admin for a superuser): what the permission table checks.
    user: Type.Object({
      id: Uuid,
      email: Type.String(),
      username: Type.String(),
      role: RoleSchema,
    }),
  },
  { $id: 'ConsoleSession' },
);
export type ConsoleSession = Static<typeof ConsoleSessionSchema>;

/** The double-submit header of refresh and logout: the value of the `medcore_csrf` cookie. */
export const CsrfHeaders = Type.Object({
  'x-csrf-token': Type.Optional(
    Str({
      maxLength: 200,
      description: 'The value of the medcore_csrf cookie set at sign-in (required: 403 without)',
    }),
  ),
});
