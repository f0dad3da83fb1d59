import { Type, type Static } from 'typebox';
import { roles } from '../../db/schema/users.js';
import {
  Email,
  Page,
  PageQuery,
  Password,
  Str,
  StrictObject,
  Timestamp,
  Username,
  Uuid,
} from '../../lib/schema.js';

export const RoleSchema = Type.Union(
  [
    Type.Literal('admin'),
    Type.Literal('doctor'),
    Type.Literal('nurse'),
    Type.Literal('receptionist'),
    Type.Literal('user'),
    Type.Literal('guest'),
  ],
  { description: 'One of the six MedCore roles' },
);
// Keeps the schema and the database's role list in step at compile time.
export const rolesInStep: Static<typeof RoleSchema> extends (typeof roles)[number] ? true : never =
  true;

export const UserSchema = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    username: Type.String(),
    full_name: Type.Union([Type.String(), Type.Null()]),
    role: RoleSchema,
    is_active: Type.Boolean(),
    is_superuser: Type.Boolean(),
    mfa_enabled: Type.Boolean({ description: 'Two-factor authentication (TOTP) is on' }),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
    last_login_at: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'User' },
);
export type UserDto = Static<typeof UserSchema>;

/** What non-admin staff may see of a doctor. */
export const PublicProfileSchema = Type.Object({
  id: Uuid,
  full_name: Type.Union([Type.String(), Type.Null()]),
  role: RoleSchema,
});
export type PublicProfileDto = Static<typeof PublicProfileSchema>;

const FullName = Str({ minLength: 1, maxLength: 200 });

export const RegisterBody = StrictObject({
  email: Email,
  username: Username,
  password: Password,
  full_name: Type.Optional(FullName),
});
export type RegisterInput = Static<typeof RegisterBody>;

export const CreateUserBody = StrictObject({
  email: Email,
  username: Username,
  password: Password,
  full_name: Type.Optional(FullName),
  role: RoleSchema,
});
export type CreateUserInput = Static<typeof CreateUserBody>;

export const UpdateMeBody = StrictObject({
  full_name: Type.Optional(Type.Union([FullName, Type.Null()])),
  email: Type.Optional(Email),
  username: Type.Optional(Username),
  current_password: Type.Optional(Password),
  // Accepted by the schema only so that trying them gets a clear 403 instead of a generic 400.
  role: Type.Optional(RoleSchema),
  is_active: Type.Optional(Type.Boolean()),
  is_superuser: Type.Optional(Type.Boolean()),
});
export type UpdateMeInput = Static<typeof UpdateMeBody>;

export const UpdateUserBody = StrictObject({
  full_name: Type.Optional(Type.Union([FullName, Type.Null()])),
  email: Type.Optional(Email),
  username: Type.Optional(Username),
  role: Type.Optional(RoleSchema),
  is_active: Type.Optional(Type.Boolean()),
  is_superuser: Type.Optional(Type.Boolean()),
  password: Type.Optional(Password),
});
export type UpdateUserInput = Static<typeof UpdateUserBody>;

export const ListUsersQuery = StrictObject({
  role: Type.Optional(RoleSchema),
  is_active: Type.Optional(Type.Boolean()),
  q: Type.Optional(Str({ minLength: 1, maxLength: 100 })),
  ...PageQuery,
});
export type ListUsersQueryInput = Static<typeof ListUsersQuery>;

export const ListPageQuery = StrictObject({ ...PageQuery });
export type ListPageQueryInput = Static<typeof ListPageQuery>;

export const UserPage = Page(Type.Ref('User'));
export const DoctorPage = Page(
  Type.Object({ id: Uuid, full_name: Type.Union([Type.String(), Type.Null()]) }),
);

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Str({ maxLength: 200 })),
});
