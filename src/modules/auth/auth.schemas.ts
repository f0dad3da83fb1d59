import { Type, type Static } from 'typebox';
import { Password, Str, StrictObject, Timestamp, Uuid } from '../../lib/schema.js';

/**
 * One body for both login styles: JSON `{email|username, password}` and the OAuth2 password
 * form (`username`, `password`, `grant_type=password`), whose `username` may hold an email.
 */
export const LoginBody = StrictObject({
  email: Type.Optional(Str({ minLength: 1, maxLength: 254 })),
  username: Type.Optional(Str({ minLength: 1, maxLength: 254 })),
  // Login does not re-apply the length policy: an old account may hold a shorter password.
  password: Str({ minLength: 1, maxLength: 128 }),
  grant_type: Type.Optional(Type.Literal('password')),
  scope: Type.Optional(Str({ maxLength: 500 })),
  client_id: Type.Optional(Str({ maxLength: 200 })),
  client_secret: Type.Optional(Str({ maxLength: 200 })),
});
export type LoginInput = Static<typeof LoginBody>;

export const TokenPairSchema = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ description: 'seconds' }),
    refresh_token: Type.String(),
    refresh_expires_in: Type.Integer({ description: 'seconds' }),
  },
  { $id: 'TokenPair' },
);
export type TokenPair = Static<typeof TokenPairSchema>;

export const RefreshBody = StrictObject({
  refresh_token: Str({ minLength: 1, maxLength: 200 }),
});

export const ChangePasswordBody = StrictObject({
  current_password: Str({ minLength: 1, maxLength: 128 }),
  new_password: Password,
});
export type ChangePasswordInput = Static<typeof ChangePasswordBody>;

export const SessionSchema = Type.Object({
  id: Uuid,
  created_at: Timestamp,
  last_used_at: Timestamp,
  expires_at: Timestamp,
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});

export const SessionPage = Type.Object({
  items: Type.Array(SessionSchema),
  next_cursor: Type.Null(),
});
