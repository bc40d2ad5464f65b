import fc from 'fast-check';
import { catListing } from '../../lib/cats/schema.js';
import { boolean, booleanParameter, date, integer, integerParameter, printableText, text } from '../../lib/fields.js';
import { type ListingSpec, listQuerySchema } from '../../lib/listing.js';
import { jsonSchema } from '../../lib/openapi/operations.js';
import * as z from '../../lib/validation.js';
import { reversedRange, validScalar, validString } from '../support/fuzz-values.js';

// The contract fuzz sends these as valid values and fails if the API refuses
// one: a value past the field's length is the fuzz's mistake, not the API's.
describe("the contract fuzz's valid strings", () => {
  it.each([
    ['text(10)', text(10)],
    ['printableText(10)', printableText(10)],
  ])('of %s keep to its pattern and to its length in code points, which its schema accepts', (_name, field) => {
    const schema = jsonSchema(field);
    const values = fc.sample(validString(schema), { numRuns: 500, seed: 1753046181 });
    const pattern = new RegExp(schema.pattern as string, 'u');
    for (const value of values) {
      expect([...value].length).toBeLessThanOrEqual(schema.maxLength as number);
      expect(value).toMatch(pattern);
      expect(field.safeParse(value).success).toBe(true);
    }
  });
});

describe("the contract fuzz's valid values", () => {
  // A body sends the value as JSON, a query parameter as its String().
  it.each([
    ['integer(0, 9) in a body', integer(0, 9), (v: unknown) => v],
    ['date() in a body', date(), (v: unknown) => v],
    ['boolean() in a body', boolean(), (v: unknown) => v],
    ['integerParameter(1, 9) in a query', integerParameter(1, 9), String],
    ['booleanParameter() in a query', booleanParameter(), String],
    ['date() in a query', date(), String],
  ])('of %s are accepted by its schema', (_name, field, sent) => {
    const values = validScalar(jsonSchema(field));
    if (values === undefined) throw new Error(`no valid values for ${JSON.stringify(jsonSchema(field))}`);
    for (const value of fc.sample(values, { numRuns: 200, seed: 1753046181 })) {
      expect(field.safeParse(sent(value)).success).toBe(true);
    }
  });
});

describe("the contract fuzz's reversed ranges", () => {
  // A day range like a resource's weighedFrom and weighedTo, with the check
  // docs/adding-a-resource.md has one write for it, as catListing does for prices.
  const dayListing: ListingSpec = {
    table: 'cats',
    sorts: { id: { column: 'id', type: 'integer' } },
    filters: {
      from: { column: 'created_on', operator: 'atLeast', schema: date(), description: 'From this day.' },
      to: { column: 'created_on', operator: 'atMost', schema: date(), description: 'To this day.' },
    },
    defaultPageSize: 20,
    maxPageSize: 100,
    checks: [
      z.refine((q: { from?: string; to?: string }) => q.from === undefined || q.to === undefined || q.from <= q.to, {
        message: 'must not be before from',
        path: ['to'],
      }),
    ],
  };

  // The fuzz counts a query of valid values as one the API must accept: a
  // pair the listing's checks refuse must be set apart, or the fuzz fails a
  // resource that did as the doc says, on whichever run draws such a pair.
  it.each([
    ["prices (the cats' minPrice, maxPrice)", catListing, 'minPrice', 'maxPrice'],
    ['days (from, to)', dayListing, 'from', 'to'],
  ] as const)('of %s are exactly the pairs of valid bounds that the listing refuses', (_name, listing, from, to) => {
    const schema = listQuerySchema(listing);
    const bound = (name: string) => {
      const filter = listing.filters[name];
      const values = filter && validScalar(jsonSchema(filter.schema));
      if (values === undefined) throw new Error(`no valid values for ${name}`);
      return values.map(String);
    };
    const pairs = fc.sample(fc.tuple(bound(from), bound(to)), { numRuns: 300, seed: 1753046181 });
    let reversed = 0;
    for (const [low, high] of pairs) {
      const query = { [from]: low, [to]: high };
      const refused = !schema.safeParse(query).success;
      expect(reversedRange(listing, query)).toBe(refused);
      if (refused) reversed += 1;
    }
    // Both kinds were drawn, so the comparison above could fail either way.
    expect(reversed).toBeGreaterThan(0);
    expect(reversed).toBeLessThan(pairs.length);
  });
});
