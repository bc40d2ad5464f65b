import fc from 'fast-check';
import { boolean, booleanParameter, date, integer, integerParameter, printableText, text } from '../../lib/fields.js';
import { jsonSchema } from '../../lib/openapi/operations.js';
import { validScalar, validString } from '../support/fuzz-values.js';

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
