import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isCommonPassword } from '../lib/passwords.js';
import { RegisterBody } from '../modules/users/users.schemas.js';
import { UsageError } from './usage.js';

// ajv-formats ships CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false }));

interface Rules {
  minLength?: number;
  maxLength?: number;
  format?: string;
  pattern?: string;
}

/** What a refused value breaks, in plain words, from the same schemas the API validates with. */
function check(label: string, schema: Rules & object, value: string, patternWords: string): void {
  if (ajv.validate(schema, value)) return;
  const [error] = ajv.errors ?? [];
  const rule =
    error?.keyword === 'minLength'
      ? `must be at least ${String(schema.minLength)} characters`
      : error?.keyword === 'maxLength'
        ? `must be at most ${String(schema.maxLength)} characters`
        : error?.keyword === 'format'
          ? 'is not a valid email address'
          : patternWords;
  throw new UsageError(`the ${label} ${rule}`);
}

/**
 * The account rules of registration and admin creation (RegisterBody, and the common-password
 * list of users.service), applied before the CLI touches the database.
 */
const { email, username, password, full_name: fullName } = RegisterBody.properties;

export function checkAccount(input: {
  email: string;
  username: string;
  password: string;
  fullName: string | undefined;
}): void {
  check('email', email, input.email, 'is not a valid email address');
  check('username', username, input.username, 'may hold only letters, digits, _ . and -');
  check('password', password, input.password, 'must not contain control characters');
  if (isCommonPassword(input.password)) {
    throw new UsageError('the password is on the list of common passwords: choose another');
  }
  if (input.fullName !== undefined) check('full name', fullName, input.fullName, 'is not valid');
}
