/**
 * Valid values of the OpenAPI document's string schemas, for the contract
 * fuzz (test/e2e/contract-fuzz.test.ts): what a request made only of valid
 * values may send, which the API must then accept.
 */
import fc from 'fast-check';
import type { ListingSpec } from '../../lib/listing.js';

type Schema = Record<string, any>;

/** Within minLength and maxLength, counted as JSON Schema (and the API) count them: in code points. */
const withinLength = (s: Schema) => (text: string) => {
  const length = [...text].length;
  return length >= (s.minLength ?? 0) && length <= (s.maxLength ?? Number.POSITIVE_INFINITY);
};

/**
 * Valid strings of a string schema. A pattern says nothing of length, and
 * fast-check's stringMatching knows none: a text field of 10 characters
 * drew 19 from its pattern, which the API rightly refused, failing a
 * request counted as valid. So the bounds are kept here.
 */
export function validString(s: Schema): fc.Arbitrary<string> {
  if (s.pattern === '^[\\x21-\\x7e]+$') {
    return fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: Math.max(1, s.minLength ?? 1),
      maxLength: s.maxLength ?? 50,
    });
  }
  if (s.format === 'email') return fc.emailAddress().filter(withinLength(s));
  if (s.pattern && s.pattern !== '\\S') return fc.stringMatching(new RegExp(s.pattern)).filter(withinLength(s));
  return fc
    .string({ unit: 'grapheme', minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 100) })
    .filter((text) => (s.pattern !== '\\S' || /\S/.test(text)) && withinLength(s)(text));
}

/**
 * Valid values of a scalar schema (an enum, an integer, a string, a boolean),
 * or undefined for any other. A boolean is a JSON one in a body, and the
 * word `true` or `false` (its String()) in a query.
 */
export function validScalar(s: Schema): fc.Arbitrary<unknown> | undefined {
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.type === 'integer') return fc.integer({ min: s.minimum ?? -2147483648, max: s.maximum ?? 2147483647 });
  if (s.type === 'string') return validString(s);
  if (s.type === 'boolean') return fc.boolean();
  return undefined;
}

/**
 * Whether a listing's query asks for a range that ends before it starts: an
 * `atLeast` filter past the `atMost` filter on the same column (minPrice
 * above maxPrice, weighedFrom after weighedTo), which the listing's `checks`
 * may refuse with a 400. Each value is valid on its own, so the fuzz must not
 * count the pair as a request the API has to accept. Integers compare as
 * numbers, days (`YYYY-MM-DD`) and text as strings.
 */
export function reversedRange(listing: ListingSpec, query: Record<string, string | undefined>): boolean {
  const filters = Object.entries(listing.filters);
  return filters.some(([from, low]) =>
    filters.some(([to, high]) => {
      const [a, b] = [query[from], query[to]];
      if (low.operator !== 'atLeast' || high.operator !== 'atMost' || low.column !== high.column) return false;
      if (a === undefined || b === undefined) return false;
      return /^[0-9]+$/.test(a) && /^[0-9]+$/.test(b) ? Number(a) > Number(b) : a > b;
    }),
  );
}
