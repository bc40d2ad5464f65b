import fc from 'fast-check';
import { catIdSchema, catPatchSchema, isoTime, listQuerySchema, newCatSchema, toCat } from '../../lib/cats/schema.js';
import { useFuzzSeed } from '../support/fuzz-seed.js';

useFuzzSeed(import.meta.url);

const cat = { name: 'Tom', price: 1200, breed: 'tabby' };
const messages = (result: { error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

describe('newCatSchema', () => {
  it('accepts a complete cat and returns it unchanged', () => {
    expect(newCatSchema.parse(cat)).toEqual(cat);
  });

  it('counts name length in code points, as Postgres varchar does', () => {
    expect(newCatSchema.safeParse({ ...cat, name: '🐱'.repeat(100) }).success).toBe(true);
    expect(messages(newCatSchema.safeParse({ ...cat, name: '🐱'.repeat(101) }))).toEqual([
      'name: must be at most 100 characters',
    ]);
  });

  it.each([
    ['white space only', ' \t\n '],
    ['empty', ''],
    ['containing NUL', 'To\u0000m'],
    ['a lone surrogate', 'Tom\uD800'],
  ])('rejects a name that is %s', (_label, name) => {
    const result = newCatSchema.safeParse({ ...cat, name });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([['name']]);
  });

  it.each([0, 2147483647])('accepts the price %p at the bounds of a Postgres integer', (price) => {
    expect(newCatSchema.parse({ ...cat, price }).price).toBe(price);
  });

  it.each([-1, 2147483648, 1.5, '5', Number.NaN, Number.POSITIVE_INFINITY, null])(
    'rejects the price %p naming price',
    (price) => {
      const result = newCatSchema.safeParse({ ...cat, price });
      expect(result.error?.issues.map((issue) => issue.path)).toEqual([['price']]);
    },
  );

  it('reports each missing field as required', () => {
    expect(messages(newCatSchema.safeParse({}))).toEqual([
      'name: is required',
      'price: is required',
      'breed: is required',
    ]);
  });

  it('refuses unknown keys, listing every one of them', () => {
    const result = newCatSchema.safeParse({ ...cat, id: 1, createdAt: 'now' });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['id', 'createdAt'] }),
    ]);
  });

  it.each([null, [], 'cat', 42])('rejects the non-object body %p as not a JSON object', (body) => {
    expect(messages(newCatSchema.safeParse(body))).toEqual([': must be a JSON object']);
  });
});

describe('catPatchSchema', () => {
  it('accepts any non-empty subset of the fields', () => {
    expect(catPatchSchema.parse({ price: 0 })).toEqual({ price: 0 });
  });

  it('rejects an empty patch', () => {
    expect(messages(catPatchSchema.safeParse({}))).toEqual([': must set at least one of name, price, breed']);
  });

  it('applies the same field rules as creation', () => {
    expect(messages(catPatchSchema.safeParse({ name: '  ', price: -1 }))).toEqual([
      'name: must not be empty or only white space',
      'price: must be an integer from 0 to 2147483647',
    ]);
  });
});

describe('catIdSchema', () => {
  it.each([
    ['1', 1],
    ['2147483647', 2147483647],
  ])('turns the path id %p into the number %p', (id, expected) => {
    expect(catIdSchema.parse({ id })).toEqual({ id: expected });
  });

  it.each(['0', '01', '-1', '1.0', ' 1', '', 'abc', '2147483648', '9999999999', '12345678901'])(
    'rejects the path id %p',
    (id) => {
      expect(catIdSchema.safeParse({ id }).success).toBe(false);
    },
  );
});

describe('listQuerySchema', () => {
  it('defaults to 20 cats in ascending id order', () => {
    expect(listQuerySchema.parse({})).toEqual({ limit: 20, sort: 'id', order: 'asc' });
  });

  it.each([
    ['1', 1],
    ['100', 100],
  ])('accepts limit %p', (limit, expected) => {
    expect(listQuerySchema.parse({ limit }).limit).toBe(expected);
  });

  it.each(['0', '101', '1000', '-1', '1.5', 'abc', ''])('rejects limit %p', (limit) => {
    expect(listQuerySchema.safeParse({ limit }).success).toBe(false);
  });

  it('rejects unknown query parameters and a white-space breed', () => {
    expect(listQuerySchema.safeParse({ page: '2' }).success).toBe(false);
    expect(listQuerySchema.safeParse({ breed: ' ' }).success).toBe(false);
  });
});

describe('toCat', () => {
  it('renames columns to camelCase and writes times as ISO 8601', () => {
    const created = new Date('2024-01-02T03:04:05.678Z');
    const updated = new Date('2024-02-03T04:05:06.789Z');
    expect(toCat({ id: 7, ...cat, version: 3, created_at: created, updated_at: updated })).toEqual({
      id: 7,
      ...cat,
      version: 3,
      createdAt: '2024-01-02T03:04:05.678Z',
      updatedAt: '2024-02-03T04:05:06.789Z',
    });
  });
});

describe('isoTime', () => {
  it('writes any date exactly as toISOString does', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.date({ noInvalidDate: true }),
          fc.date({
            min: new Date('1000-01-01T00:00:00.000Z'),
            max: new Date('9999-12-31T23:59:59.999Z'),
            noInvalidDate: true,
          }),
        ),
        (date) => {
          expect(isoTime(date)).toBe(date.toISOString());
        },
      ),
      { numRuns: 5000 },
    );
    for (const date of ['0999-12-31T23:59:59.999Z', '1000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      expect(isoTime(new Date(date))).toBe(date);
    }
    expect(isoTime(new Date(Date.UTC(10000, 0)))).toBe('+010000-01-01T00:00:00.000Z');
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
