import { Type, type Static } from 'typebox';
import { Str, StrictObject } from '../../../lib/schema.js';

const TotpCode = Type.String({
  pattern: '^[0-9]{6}$',
  description: 'The 6-digit code the authenticator app shows now',
});

/** A TOTP code or a backup code (`xxxx-xxxx-xxxx`; case, spaces and dashes are ignored). */
const AnyCode = Type.String({
  minLength: 6,
  maxLength: 32,
  pattern: '^[A-Za-z0-9 -]+$',
  description: 'A 6-digit TOTP code or an unused backup code',
});

export const MfaVerifyBody = StrictObject({
  mfa_token: Str({ minLength: 1, maxLength: 200 }),
  code: AnyCode,
});
export type MfaVerifyInput = Static<typeof MfaVerifyBody>;

export const TotpEnableBody = StrictObject({ code: TotpCode });
export type TotpEnableInput = Static<typeof TotpEnableBody>;

/** Enrolment needs the current password: an access token alone must not swap the factor. */
export const TotpSetupBody = StrictObject({
  password: Str({ minLength: 1, maxLength: 128, description: 'Your current password' }),
});
export type TotpSetupInput = Static<typeof TotpSetupBody>;

export const TotpDisableBody = StrictObject({
  password: Str({ minLength: 1, maxLength: 128 }),
  code: AnyCode,
});
export type TotpDisableInput = Static<typeof TotpDisableBody>;

export const TotpSetupSchema = Type.Object({
  secret: Type.String({ description: 'base32, for typing into an app by hand' }),
  otpauth_uri: Type.String({ description: 'otpauth://totp/… for a QR code' }),
  issuer: Type.String(),
  algorithm: Type.Literal('SHA1'),
  digits: Type.Integer(),
  period: Type.Integer({ description: 'seconds' }),
});
export type TotpSetup = Static<typeof TotpSetupSchema>;

export const BackupCodesSchema = Type.Object({
  backup_codes: Type.Array(Type.String(), { description: 'Shown once; each works once' }),
});

/** The first step's answer when the account has MFA on: no tokens yet. */
export const MfaChallengeSchema = Type.Object({
  mfa_required: Type.Literal(true),
  mfa_token: Type.String(),
  expires_in: Type.Integer({ description: 'seconds' }),
});
export type MfaChallenge = Static<typeof MfaChallengeSchema>;
