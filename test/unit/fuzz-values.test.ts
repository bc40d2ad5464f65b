import fc from 'fast-check';
import { printableText, text } from '../../lib/fields.js';
import { jsonSchema } from '../../lib/openapi/operations.js';
import { validString } from '../support/fuzz-values.js';

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
