import type { FieldError } from '../lib/errors.js';

/**
 * Ajv's validation issues in a person's words: `sort must be one of: name, -name` once instead of
 * four `must be equal to constant`, `date is required`, `body must be a JSON object`. Pure, so
 * the wording is unit tested (validation-messages.test.ts); the error plugin renders the result.
 */
export interface AjvIssue {
  instancePath: string;
  schemaPath?: string | undefined;
  keyword: string;
  message?: string | undefined;
  params: Record<string, unknown>;
}

const partNames: Record<string, string> = { querystring: 'query', params: 'path' };

const typeWords: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
  object: 'a JSON object',
  array: 'a list',
};

const formatWords: Record<string, string> = {
  uuid: 'a UUID',
  email: 'a valid email address',
  date: 'a date (YYYY-MM-DD)',
  'date-time': 'a date and time (RFC 3339, e.g. 2026-05-04T09:00:00Z)',
  time: 'a time (HH:MM:SS)',
  uri: 'a URL',
  url: 'a URL',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
};

const plural = (n: unknown, word: string) => `${String(n)} ${word}${n === 1 ? '' : 's'}`;

/** What one issue asks for, as a noun phrase ("a UUID"), when it is about the value's kind. */
function wanted(issue: AjvIssue): string | undefined {
  const { type, format } = issue.params;
  if (issue.keyword === 'type' && typeof type === 'string') return typeWords[type] ?? type;
  if (issue.keyword === 'format' && typeof format === 'string') {
    return formatWords[format] ?? `a valid ${format}`;
  }
  return undefined;
}

/** The values a const or enum issue allows. */
function allowedValues(issue: AjvIssue): unknown[] | undefined {
  if (issue.keyword === 'const') return [issue.params.allowedValue];
  if (issue.keyword === 'enum' && Array.isArray(issue.params.allowedValues)) {
    return issue.params.allowedValues as unknown[];
  }
  return undefined;
}

const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** One issue's predicate: "is required", "must be at most 100". */
function predicate(issue: AjvIssue): string {
  const p = issue.params;
  const kind = wanted(issue);
  if (kind !== undefined) return `must be ${kind}`;
  const values = allowedValues(issue);
  if (values !== undefined) {
    return values.length === 1
      ? `must be ${shown(values[0])}`
      : `must be one of: ${values.map(shown).join(', ')}`;
  }
  switch (issue.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'unknown property';
    case 'maximum':
      return `must be at most ${String(p.limit)}`;
    case 'minimum':
      return `must be at least ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return `must be less than ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return `must be more than ${String(p.limit)}`;
    case 'maxLength':
      return `must be at most ${plural(p.limit, 'character')} long`;
    case 'minLength':
      return p.limit === 1
        ? 'must not be empty'
        : `must be at least ${plural(p.limit, 'character')} long`;
    case 'maxItems':
      return `must have at most ${plural(p.limit, 'item')}`;
    case 'minItems':
      return `must have at least ${plural(p.limit, 'item')}`;
    case 'uniqueItems':
      return 'must not contain the same item twice';
    case 'multipleOf':
      return `must be a multiple of ${String(p.multipleOf)}`;
    case 'pattern':
      return patternPredicate(String(p.pattern));
    default:
      return issue.message ?? 'is invalid';
  }
}

/** The shared string patterns of lib/schema.ts, said in words; others only "the expected form". */
function patternPredicate(pattern: string): string {
  if (pattern.includes('\\u0000')) {
    return pattern.startsWith('^(?=')
      ? 'must not be blank or contain control characters'
      : 'must not contain control characters';
  }
  if (pattern === '^[A-Za-z0-9_-]*$') return 'may contain only letters, digits, _ and -';
  if (pattern === '^[A-Za-z0-9_.-]+$') return 'may contain only letters, digits, _ . and -';
  return 'is not in the expected form';
}

/**
 * One message for an anyOf/oneOf whose branches all failed. A branch that failed on a
 * constraint (length, range) had the right kind of value: its message is the useful one.
 * Otherwise the branches are listed: "must be one of: a, b" for constants, "must be a UUID or
 * me" for a mix.
 */
function unionPredicate(branches: AjvIssue[][]): string {
  const specific = branches.find((issues) =>
    issues.some((i) => wanted(i) === undefined && allowedValues(i) === undefined),
  );
  if (specific) {
    const first = specific.find((i) => wanted(i) === undefined && allowedValues(i) === undefined);
    if (first) return predicate(first);
  }
  const values: unknown[] = [];
  const kinds: string[] = [];
  for (const issues of branches) {
    for (const issue of issues) {
      const allowed = allowedValues(issue);
      if (allowed) values.push(...allowed);
      const kind = wanted(issue);
      if (kind !== undefined && !kinds.includes(kind)) kinds.push(kind);
    }
  }
  // A nullable field given a wrong value: what it should be is the point, not that null would do.
  if (kinds.length + values.length > 1 && kinds.includes('null'))
    kinds.splice(kinds.indexOf('null'), 1);
  if (kinds.length === 0) return `must be one of: ${values.map(shown).join(', ')}`;
  const options = [...kinds, ...values.map((value) => `"${shown(value)}"`)];
  return `must be ${options.slice(0, -1).join(', ')}${options.length > 1 ? ' or ' : ''}${options.at(-1) ?? ''}`;
}

/** The issues of each branch of the union at `schemaPath` (`.../anyOf/0/const` is branch 0). */
function branchesOf(issues: AjvIssue[], schemaPath: string): AjvIssue[][] {
  const byBranch = new Map<string, AjvIssue[]>();
  for (const issue of issues) {
    const rest = issue.schemaPath?.slice(schemaPath.length + 1) ?? '';
    const branch = rest.split('/')[0] ?? '';
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), issue]);
  }
  return [...byBranch.values()];
}

const isUnion = (issue: AjvIssue) => issue.keyword === 'anyOf' || issue.keyword === 'oneOf';

/** Turns Ajv issues into `{field, message}` with dotted paths such as `body.email`. */
export function fieldErrors(issues: AjvIssue[], context: string | undefined): FieldError[] {
  const part = partNames[context ?? ''] ?? context ?? 'body';
  // A union's branch issues are folded into the union's own (outermost union first).
  const unions = issues.filter(isUnion).sort((a, b) => len(a) - len(b));
  const absorbed = new Set<AjvIssue>();
  const unionMessages = new Map<AjvIssue, string>();
  for (const union of unions) {
    if (absorbed.has(union)) continue;
    const prefix = `${union.schemaPath ?? ''}/`;
    const inside = issues.filter((i) => i !== union && i.schemaPath?.startsWith(prefix) === true);
    inside.forEach((i) => absorbed.add(i));
    const leaves = inside.filter((i) => !isUnion(i));
    unionMessages.set(union, unionPredicate(branchesOf(leaves, union.schemaPath ?? '')));
  }
  const out: FieldError[] = [];
  for (const issue of issues) {
    if (absorbed.has(issue)) continue;
    const segments = issue.instancePath.split('/').filter((s) => s !== '');
    const { missingProperty, additionalProperty } = issue.params;
    if (typeof missingProperty === 'string') segments.push(missingProperty);
    if (typeof additionalProperty === 'string') segments.push(additionalProperty);
    const field = [part, ...segments].join('.');
    const message = unionMessages.get(issue) ?? predicate(issue);
    if (!out.some((e) => e.field === field && e.message === message)) out.push({ field, message });
  }
  return out;
}

function len(issue: AjvIssue): number {
  return (issue.schemaPath ?? '').length;
}

/** The sentence of a problem's `detail`: the field as the caller wrote it, then what is wrong. */
export function validationDetail(errors: FieldError[]): string {
  if (errors.length === 0) return 'The request is not valid';
  return errors
    .map(({ field, message }) => {
      // `query.sort` is `sort` to the caller; a whole part (`body`) keeps its name.
      const name = /^(body|query|path|headers)\./.test(field)
        ? field.slice(field.indexOf('.') + 1)
        : field;
      return `${name} ${message}`;
    })
    .join('; ');
}
