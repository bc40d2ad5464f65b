/**
 * Every field helper of lib/fields.ts says in the OpenAPI document exactly
 * what it checks: values generated from its documented JSON Schema are
 * accepted, and whatever it accepts (of valid values and of hostile ones) is
 * valid by that schema, as ajv reads it. Random: the seed is printed, and
 * CATS_FIELDS_SEED=<seed> replays a run.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { catListing, listQuerySchema } from '../../lib/cats/schema.js';
import {
  body,
  boolean,
  booleanParameter,
  date,
  datePattern,
  email,
  idParameters,
  integer,
  integerParameter,
  isoTime,
  maxInteger,
  patchBody,
  printableText,
  reference,
  text,
} from '../../lib/fields.js';
import { openApiDocument } from '../../lib/openapi/document.js';
import { type JsonSchema, jsonSchema } from '../../lib/openapi/operations.js';
import type * as z from '../../lib/validation.js';

const seed = process.env.CATS_FIELDS_SEED ? Number(process.env.CATS_FIELDS_SEED) : Date.now() % 2 ** 31;
console.log(
  `field property tests: seed ${seed} (replay: CATS_FIELDS_SEED=${seed} npm test -- test/unit/fields.test.ts)`,
);
const runs = { seed, numRuns: 300 };

const ajv = new Ajv2020({ strict: false });
const codePoints = (s: string) => [...s].length;

/** Values valid by a JSON Schema, as a generated client or a fuzz makes them (patterns read without the `u` flag). */
function fromSchema(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.anyOf)) return fc.oneof(...(schema.anyOf as JsonSchema[]).map(fromSchema));
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length > 1) return fc.oneof(...types.map((type) => fromSchema({ ...schema, type })));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: Number(schema.minimum ?? -maxInteger - 1), max: Number(schema.maximum ?? maxInteger) });
    case 'string': {
      const min = Number(schema.minLength ?? 0);
      const max = Number(schema.maxLength ?? 1000);
      // Short and longer strings: a pattern's nested repetitions make long ones, over maxLength.
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern) : undefined;
      const strings = pattern
        ? fc.oneof(fc.stringMatching(pattern, { size: 'xsmall' }), fc.stringMatching(pattern, { size: 'small' }))
        : fc.string({ unit: 'binary' });
      return strings.filter((s) => codePoints(s) >= min && codePoints(s) <= max);
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      return fc
        .record(Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, fromSchema(p)])), {
          requiredKeys: (schema.required as string[] | undefined) ?? [],
        })
        .filter((value) => Object.keys(value).length >= Number(schema.minProperties ?? 0));
    }
    default:
      throw new Error(`fromSchema: no generator for ${JSON.stringify(schema)}`);
  }
}

/** Characters where a check and a document tend to disagree. */
const tricky = fc.constantFrom(
  ...'aZ09 .@-_+\'"#%!~/\\'.split(''),
  '\u0000',
  '\t',
  '\n',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u009f',
  '\u00a0',
  '\u00ad',
  '\u061c',
  '\u180e',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u2060',
  '\u2066',
  '\u3000',
  '\u3164',
  '\ufe0f',
  '\ufeff',
  '\ud800',
  '\udc00',
  '😺',
  'é',
  'ü',
);
const hostileStrings = fc.oneof(
  fc.string({ unit: tricky, maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.emailAddress(),
  fc.mixedCase(fc.constantFrom('a@b.co', 'a#b@example.com', 'x@[127.0.0.1]', '"a b"@example.com', 'a..b@c.de')),
);

interface Helper {
  name: string;
  schema: z.ZodMiniType;
  /** Values a client may send in its place, valid or not. */
  hostile: fc.Arbitrary<unknown>;
  /** How a generated value goes on the wire (a query parameter is text). */
  send?: (value: unknown) => unknown;
  /** What an accepted wire value is, as the document types it (the integer a parameter's digits spell). */
  read?: (value: unknown) => unknown;
}

const hostileNumbers = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, maxInteger, maxInteger + 1, 1.5, Number.NaN),
  hostileStrings,
  fc.constant(null),
);
const hostileDigits = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom('0', '00', '01', '-1', '+1', '1e3', ' 1', '1.0', String(maxInteger), String(maxInteger + 1), ''),
  fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 12 }),
);
/** Strings shaped like a day, of days that exist and days that do not, and near misses. */
const hostileDays = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 10000 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
    .map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
  fc.date({ noInvalidDate: true }).map((day) => day.toISOString().slice(0, 10)),
  fc.constantFrom(
    '2026-1-05',
    '2026-01-5',
    '26-01-05',
    '2026/01/05',
    '2026-01-05T00:00:00Z',
    ' 2026-01-05',
    '2026-01-05\n',
  ),
  hostileStrings,
  hostileNumbers,
);
const hostileBooleans = fc.oneof(
  fc.boolean(),
  fc.constantFrom('true', 'false', 0, 1, null, 'TRUE', [], {}),
  hostileStrings,
);
const fields = { label: printableText(20), count: integer(0, 9) };

const helpers: Helper[] = [
  { name: 'text(12)', schema: text(12), hostile: hostileStrings },
  { name: 'printableText(12)', schema: printableText(12), hostile: hostileStrings },
  { name: 'email()', schema: email(), hostile: hostileStrings },
  { name: 'email(12)', schema: email(12), hostile: hostileStrings },
  { name: 'integer(-5, 300)', schema: integer(-5, 300), hostile: hostileNumbers },
  { name: 'reference()', schema: reference(), hostile: hostileNumbers },
  { name: 'date()', schema: date(), hostile: hostileDays },
  { name: 'boolean()', schema: boolean(), hostile: hostileBooleans },
  {
    name: 'booleanParameter()',
    schema: booleanParameter(),
    hostile: fc.oneof(
      fc.constantFrom('true', 'false', 'TRUE', 'True', '1', '0', 'yes', ' true', 'true ', ''),
      hostileStrings,
    ),
    send: (value) => String(value),
    read: (value) => value === 'true',
  },
  {
    name: 'integerParameter(0, 1000)',
    schema: integerParameter(0, 1000),
    hostile: hostileDigits,
    send: (value) => String(value),
    read: (value) => Number(value),
  },
  {
    name: 'idParameters()',
    schema: idParameters(),
    hostile: hostileDigits.map((id) => ({ id })),
    send: (value) => ({ id: String((value as { id: number }).id) }),
    read: (value) => ({ id: Number((value as { id: string }).id) }),
  },
  {
    name: 'body(...)',
    schema: body(fields),
    hostile: fc.record({ label: hostileStrings, count: hostileNumbers }, { requiredKeys: [] }),
  },
  {
    name: 'patchBody(...)',
    schema: patchBody(fields),
    hostile: fc.record({ label: hostileStrings, count: hostileNumbers }, { requiredKeys: [] }),
  },
];

describe.each(helpers)(
  'the field helper $name',
  ({ schema, hostile, send = (value) => value, read = (value) => value }) => {
    const documented = jsonSchema(schema as unknown as z.core.$ZodType);
    const validByDocument = ajv.compile(documented);

    it('accepts every value its documented JSON Schema allows', () => {
      fc.assert(
        fc.property(fromSchema(documented), (value) => {
          expect(validByDocument(value)).toBe(true);
          expect(schema.safeParse(send(value)).error).toBeUndefined();
        }),
        runs,
      );
    });

    it('accepts only values its documented JSON Schema allows', () => {
      fc.assert(
        fc.property(hostile, (value) => {
          const parsed = schema.safeParse(value);
          if (!parsed.success) return;
          expect({ value, valid: validByDocument(read(value)) }).toEqual({ value, valid: true });
        }),
        runs,
      );
    });
  },
);

describe('printableText', () => {
  const name = printableText(100);
  it.each([
    ['\u200b', 'not be empty or only white space or invisible'],
    ['\u180e', 'not be empty or only white space or invisible'],
    ['\ufeff \u2060', 'not be empty or only white space or invisible'],
    ['\u001f', 'be printable text'],
    ['a\u202eb', 'be printable text'],
    ['\u2067a', 'be printable text'],
    ['a\u0085', 'be printable text'],
    ['a\u200fb', 'be printable text'],
    ['a\u061cb', 'be printable text'],
  ])('refuses %j, saying it must %s', (value, says) => {
    const messages = name.safeParse(value).error?.issues.map((issue) => issue.message) ?? [];
    expect(messages.join('; ')).toContain(says);
  });

  it.each(['Tom', 'Zoë', '😺', 'Mr. Whiskers', '  padded  ', 'a\u200db', '日本猫'])('accepts %j', (value) => {
    expect(name.safeParse(value).data).toBe(value);
  });
});

describe('date', () => {
  const day = date();
  const exists = (y: number, m: number, d: number) => {
    const utc = new Date(0);
    utc.setUTCFullYear(y, m - 1, d);
    return utc.getUTCFullYear() === y && utc.getUTCMonth() === m - 1 && utc.getUTCDate() === d;
  };
  const text = (y: number, m: number, d: number) =>
    `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

  it('accepts exactly the days of the Gregorian calendar from year 1 to 9999, as the calendar of JavaScript Dates has them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (y, m, d) => {
          expect(new RegExp(datePattern).test(text(y, m, d))).toBe(y >= 1 && exists(y, m, d));
          expect(day.safeParse(text(y, m, d)).success).toBe(y >= 1 && exists(y, m, d));
        },
      ),
      runs,
    );
  });

  it.each(['2024-02-29', '2000-02-29', '0400-02-29', '0001-01-01', '9999-12-31', '2026-04-30'])(
    'accepts %j',
    (value) => {
      expect(day.safeParse(value).data).toBe(value);
    },
  );

  it.each([
    '2026-02-30',
    '2025-02-29',
    '1900-02-29',
    '2026-04-31',
    '0000-01-01',
    '2026-13-01',
    '2026-1-5',
    '20260105',
    '2026-01-05T00:00:00Z',
    '10000-01-01',
  ])('refuses %j, saying what it expects', (value) => {
    expect(day.safeParse(value).error?.issues.map((issue) => issue.message)).toEqual([
      'must be a date as YYYY-MM-DD, a day that exists, from 0001-01-01 to 9999-12-31',
    ]);
  });
});

describe('boolean', () => {
  it.each(['true', 'false', 0, 1, null])('refuses %j rather than converting it', (value) => {
    expect(
      boolean()
        .safeParse(value)
        .error?.issues.map((issue) => issue.message),
    ).toEqual(['must be true or false, sent as a JSON boolean']);
  });

  it('reads the query words true and false as booleans, and nothing else', () => {
    expect(booleanParameter().safeParse('true').data).toBe(true);
    expect(booleanParameter().safeParse('false').data).toBe(false);
    expect(booleanParameter().safeParse('1').error?.issues[0]?.message).toBe('must be true or false');
  });
});

describe('isoTime', () => {
  it('writes what format: date-time documents, exactly as toISOString does', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (date) => {
        expect(isoTime(date)).toBe(date.toISOString());
      }),
      runs,
    );
  });
});

describe('the listing of cats in the document', () => {
  it('says that minPrice above maxPrice is refused, as the query schema refuses it', () => {
    expect(listQuerySchema.safeParse({ minPrice: '10', maxPrice: '9' }).success).toBe(false);
    const paths = openApiDocument().paths as Record<
      string,
      { get: { parameters: { name: string; description: string }[] } }
    >;
    const parameters = paths['/cats']?.get.parameters ?? [];
    for (const name of ['minPrice', 'maxPrice']) {
      expect(parameters.find((p) => p.name === name)?.description).toMatch(/not (above|below) (maxPrice|minPrice)/);
    }
    expect(catListing.filters.minPrice?.description).toContain('maxPrice');
  });
});
