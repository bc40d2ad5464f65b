/**
 * Field schemas any resource can use: request validation (zod/mini, with the
 * API's English messages) and, registered beside each one, how the OpenAPI
 * document describes it, for what zod's refinements cannot express in JSON
 * Schema (a length counted in code points, a query parameter that is an
 * integer on the wire). A resource's own module says only which fields it has.
 *
 * A schema built at module level is kept, and built at import, in every
 * bundle that imports its module, unless esbuild knows the call is free of
 * side effects. It does not know that of zod's `.check()` or wrappers such as
 * `z.optional()`, nor of these helpers when called from another module (it
 * honours their `@__NO_SIDE_EFFECTS__` marks only within this file), so a
 * resource module builds its schemas inside `/* @__PURE__ *\/` arrows
 * (test/unit/bundle.test.ts reports a bundle that grows, and from what).
 */
import * as z from './validation.js';

/** The largest value of a PostgreSQL `integer` column (ids, prices, counts). */
export const maxInteger = 2147483647;

type JsonSchema = Record<string, unknown>;

/**
 * What the OpenAPI document says about a field: `replace`s what zod would
 * derive from it, or `add`s to it (lib/openapi/schemas.ts reads this).
 */
export const fieldDocs = /* @__PURE__ */ z.registry<{ replace?: JsonSchema; add?: JsonSchema }>();

const documented = <S extends z.ZodMiniType>(schema: S, doc: { replace?: JsonSchema; add?: JsonSchema }): S => {
  fieldDocs.add(schema, doc);
  return schema;
};

// Character classes (regular expression source, valid with and without the
// `u` flag) for the patterns the document states. A character outside the
// Basic Multilingual Plane is a surrogate pair: matched as a pair, so that a
// pattern read without `u` (a fuzz, a generated client) agrees with one read
// with it (ajv), and a lone surrogate, which PostgreSQL cannot store, matches
// neither.
const surrogates = '\\ud800-\\udfff';
const pair = '[\\ud800-\\udbff][\\udc00-\\udfff]';
/** White space as JavaScript's `\s` and `trim()` know it. */
const whiteSpace = '\\x09-\\x0d\\x20\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** C0 and C1 control characters (DEL too) and the bidirectional formatting characters. */
const controls = '\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
/**
 * What is blank but not a control: spaces, and the characters that draw
 * nothing (zero-width space and joiners, word joiner and invisible operators,
 * soft hyphen, Mongolian vowel separator, Hangul fillers, variation
 * selectors, braille blank, BOM).
 */
const blanks =
  '\\x20\\xa0\\xad\\u034f\\u115f\\u1160\\u1680\\u17b4\\u17b5\\u180b-\\u180f\\u2000-\\u200d\\u2028\\u2029' +
  '\\u202f\\u205f-\\u2065\\u206a-\\u206f\\u2800\\u3000\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0';

/**
 * The pattern of text made of characters not `banned`, with at least one
 * not `blank` either: blanks, then the first visible character, then any
 * allowed ones. Only one way to match, so it runs in linear time.
 */
function textPattern(banned: string, blank: string): string {
  const allowed = `(?:[^${banned}${surrogates}]|${pair})`;
  const visible = `(?:[^${banned}${blank}${surrogates}]|${pair})`;
  return `^[${blank}]*${visible}${allowed}*$`;
}

/**
 * A string field checked the way PostgreSQL will see it: length in code
 * points (varchar counts characters, JavaScript counts UTF-16 units) and no
 * lone surrogate, which a UTF-8 database cannot store; with no `banned`
 * character and at least one not `blank`. The document states the same rule
 * as one pattern (textPattern).
 */
/* @__NO_SIDE_EFFECTS__ */
function textField(maxLength: number, banned: string, blank: string, messages: { banned: string; blank: string }) {
  const bannedChar = new RegExp(`[${banned}]`);
  const visibleChar = new RegExp(`[^${banned}${blank}]`, 'u');
  const schema = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).check(
    z.refine((s) => visibleChar.test(s), messages.blank),
    z.refine((s) => [...s].length <= maxLength, `must be at most ${maxLength} characters`),
    z.refine((s) => s.isWellFormed() && !bannedChar.test(s), messages.banned),
  );
  return documented(schema, {
    replace: { type: 'string', minLength: 1, maxLength, pattern: textPattern(banned, blank) },
  });
}

/**
 * Text stored exactly as sent, so what a client writes is what it reads back:
 * not only white space, and no NUL (which PostgreSQL's text cannot hold).
 */
/* @__NO_SIDE_EFFECTS__ */
export function text(maxLength: number) {
  return textField(maxLength, '\\x00', whiteSpace, {
    blank: 'must not be empty or only white space',
    banned: 'must be valid Unicode text without NUL characters',
  });
}

/**
 * Text a person reads, such as a name: as `text`, and also no control
 * character (C0, DEL, C1: tab and line breaks included) and no bidirectional
 * formatting character (which can make it display as other text), and not
 * made only of spaces and characters that draw nothing (U+200B, U+180E,
 * U+FEFF, U+2060...).
 */
/* @__NO_SIDE_EFFECTS__ */
export function printableText(maxLength: number) {
  return textField(maxLength, controls, blanks, {
    blank: 'must not be empty or only white space or invisible characters',
    banned: 'must be printable text: no control characters, no bidirectional formatting characters',
  });
}

/**
 * An address's local part of dot-separated runs of letters, digits and
 * `_'+-`, and a domain of at least two labels ending in letters: the common
 * addresses, and what zod's email check accepts, without its lookaheads. The
 * document states this pattern rather than `format: email`, whose meaning
 * differs from one validator to the next; each label is matched one way only,
 * so a long string is refused in linear time.
 */
export const emailPattern =
  "^[A-Za-z0-9_'+-]+(?:\\.[A-Za-z0-9_'+-]+)*@(?:[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*\\.)+[A-Za-z]{2,}$";

/** An email address matching emailPattern, at most `maxLength` characters (RFC 5321 allows 254). */
/* @__NO_SIDE_EFFECTS__ */
export function email(maxLength = 254) {
  const schema = z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be an email address') })
    .check(
      z.maxLength(maxLength, `must be at most ${maxLength} characters`),
      z.regex(new RegExp(emailPattern), 'must be an email address'),
    );
  return documented(schema, { replace: { type: 'string', maxLength, pattern: emailPattern } });
}

/**
 * The id of a row of another resource (a foreign key), or null for none:
 * a reference to a row that does not exist is a 422 naming the field
 * (lib/http/errors.ts).
 */
/* @__NO_SIDE_EFFECTS__ */
export function reference() {
  return z.nullable(integer(1, maxInteger));
}

/** A JSON number that is an integer from `min` to `max` (a string is refused, not converted). */
/* @__NO_SIDE_EFFECTS__ */
export function integer(min: number, max: number) {
  const range = `must be an integer from ${min} to ${max}`;
  return z
    .number({ error: (issue) => (issue.input === undefined ? 'is required' : `${range}, sent as a JSON number`) })
    .check(z.int(range), z.gte(min, range), z.lte(max, range));
}

/**
 * A calendar day as `YYYY-MM-DD`, a day that exists (no 2026-02-30; 29
 * February in leap years only, by the Gregorian rules PostgreSQL uses), in
 * the years 0001 to 9999: what a PostgreSQL `date` column holds and writes
 * back the same way (years before 1 are BC there, and 10000 on have five
 * digits). One alternative matches each day, so the pattern runs in linear
 * time, without lookaheads a generator or another validator may not read.
 */
// A year 0001-9999 (four digits, not all zero), then a day any year has
// (the 1st to 28th of any month, the 29th and 30th of all but February, the
// 31st of the long months), or 29 February of a leap year: divisible by 4 and
// not by 100 (its last two digits), or by 400 (its first two, then 00). One
// literal: esbuild keeps a template built from constants in every bundle
// that imports this module, used or not.
export const datePattern =
  '^(?:(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29)$';

const dateMessage = 'must be a date as YYYY-MM-DD, a day that exists, from 0001-01-01 to 9999-12-31';

/**
 * A calendar day, `YYYY-MM-DD` (datePattern), kept as that text: stored in a
 * PostgreSQL `date` column, it reads back as the same string, since the
 * pool returns `date` values as PostgreSQL writes them (lib/db/index.ts).
 * Also a query parameter's schema as it is (a filter on a `date` column).
 */
/* @__NO_SIDE_EFFECTS__ */
export function date() {
  const schema = z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : dateMessage) })
    .check(z.regex(new RegExp(datePattern), dateMessage));
  return documented(schema, { replace: { type: 'string', format: 'date', pattern: datePattern } });
}

/** A JSON boolean, `true` or `false` (a string "true", 0 or 1 is refused, not converted). */
/* @__NO_SIDE_EFFECTS__ */
export function boolean() {
  const schema = z.boolean({
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be true or false, sent as a JSON boolean'),
  });
  return documented(schema, { replace: { type: 'boolean' } });
}

/**
 * A query parameter holding `true` or `false` (nothing else: no 1, no yes,
 * no TRUE), as a boolean, for an `equals` filter on a boolean column. The
 * document types it as a boolean, so generated clients send those words.
 */
/* @__NO_SIDE_EFFECTS__ */
export function booleanParameter() {
  const schema = z.pipe(
    z.enum(['true', 'false'], { error: 'must be true or false' }),
    z.transform((word) => word === 'true'),
  );
  return documented(schema, { replace: { type: 'boolean' } });
}

/**
 * A query or path parameter holding a decimal integer from `min` to `max`
 * (no sign, no leading zero, no exponent), as a number. The document types it
 * as an integer, so generated clients send numbers.
 */
/* @__NO_SIDE_EFFECTS__ */
export function integerParameter(min: number, max: number, message = `must be an integer from ${min} to ${max}`) {
  if (min < 0) throw new Error('integerParameter: negative numbers are not supported');
  const digits = String(max).length;
  const schema = z
    .pipe(z.string().check(z.regex(new RegExp(`^(0|[1-9][0-9]{0,${digits - 1}})$`), message)), z.transform(Number))
    .check(z.refine((n) => n >= min && n <= max, message));
  return documented(schema, { replace: { type: 'integer', minimum: min, maximum: max } });
}

/** Path parameters `{ [name]: id }`: a positive integer up to the integer column's maximum. */
/* @__NO_SIDE_EFFECTS__ */
export function idParameters<N extends string = 'id'>(name: N = 'id' as N) {
  return z.object({ [name]: integerParameter(1, maxInteger, `must be a positive integer up to ${maxInteger}`) } as {
    [K in N]: ReturnType<typeof integerParameter>;
  });
}

/** A JSON object with exactly these fields (unknown ones, such as `id` or a typo, are refused, not ignored). */
/* @__NO_SIDE_EFFECTS__ */
export function body<F extends z.core.$ZodLooseShape>(fields: F) {
  return z.strictObject(fields, { error: 'must be a JSON object' });
}

/** A JSON object with any non-empty subset of these fields, for PATCH. */
/* @__NO_SIDE_EFFECTS__ */
export function patchBody<F extends Record<string, z.ZodMiniType>>(fields: F) {
  const optional = Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, z.optional(schema)])) as {
    [K in keyof F]: z.ZodMiniOptional<F[K]>;
  };
  const names = Object.keys(fields).join(', ');
  const schema = z
    .strictObject(optional, { error: 'must be a JSON object' })
    .check(z.refine((patch) => Object.keys(patch).length > 0, `must set at least one of ${names}`));
  return documented(schema, { add: { minProperties: 1 } });
}

const tens = (n: number) => 48 + (((n / 10) | 0) % 10);
const ones = (n: number) => 48 + (n % 10);

/**
 * `date.toISOString()`, for four-digit years (others, and invalid dates, are
 * left to it): V8's own takes ~0.5 µs, and a page of 20 rows formats 40.
 * One `fromCharCode` makes the string flat, where concatenating its pieces
 * would make a rope that JSON.stringify then has to flatten.
 */
export function isoTime(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return date.toISOString();
  const month = date.getUTCMonth() + 1;
  const day = date.getUTCDate();
  const hours = date.getUTCHours();
  const minutes = date.getUTCMinutes();
  const seconds = date.getUTCSeconds();
  const millis = date.getUTCMilliseconds();
  return String.fromCharCode(
    tens(year / 100),
    ones((year / 100) | 0),
    tens(year),
    ones(year),
    0x2d, // -
    tens(month),
    ones(month),
    0x2d,
    tens(day),
    ones(day),
    0x54, // T
    tens(hours),
    ones(hours),
    0x3a, // :
    tens(minutes),
    ones(minutes),
    0x3a,
    tens(seconds),
    ones(seconds),
    0x2e, // .
    tens(millis / 10),
    tens(millis),
    ones(millis),
    0x5a, // Z
  );
}
