/**
 * Fuzzing driven by the OpenAPI document, over HTTP against `npm start`:
 * every operation of the document, with path, query, header and body values
 * generated from its own schemas (valid ones) and hostile extras (forged and
 * truncated cursors, prototype names, NUL bytes, huge numbers, odd content
 * types and header values), plus methods and paths no operation has. For each
 * response: never a 5xx; every 4xx is problem+json whose status matches; every
 * response of a documented operation is what the document says (status,
 * headers, body schema; test/support/contract.ts); a rejected request changes
 * no row; and a request made only of valid values succeeds.
 *
 * Every resource of the document takes part (lib/openapi/document.ts lists
 * them). A request counted as valid is valid against the server's state too:
 * its path id names a row of its own resource that exists, a reference field
 * in its body names one of the referenced resource, its Idempotency-Key is
 * one no earlier request of the run used (one namespace for every create,
 * docs/api.md), and a generated path that no operation has is one
 * an HTTP client sends as written (no `.` or `..` segment, `%2e` included, no
 * empty segment), not one it normalises onto a route.
 *
 * Every run prints its fast-check seed; `CATS_FUZZ_SEED=<seed> npm test --
 * test/e2e/contract-fuzz.test.ts` replays it (test/support/fuzz-seed.ts),
 * `CATS_FUZZ_RUNS=<n>` changes the number of requests (5200 by default), and
 * `CATS_FUZZ_SEEDS=<n>` runs n seeds one after the other against one API.
 */
import fc from 'fast-check';
import { openApiDocument, resources } from '../../lib/openapi/document.js';
import type { ResourceDoc } from '../../lib/openapi/operations.js';
import { authorizationFor, lambdaTimedOut, useApi } from '../support/api-process.js';
import { referencedFirst } from '../support/bulk-data.js';
import { expectMatchesContract, pathTemplate } from '../support/contract.js';
import { fuzzSeeds, useFuzzSeed } from '../support/fuzz-seed.js';
import { reversedRange, validScalar } from '../support/fuzz-values.js';

const seeds = fuzzSeeds(useFuzzSeed(import.meta.url));

type Schema = Record<string, any>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  method: string;
  template: string;
  parameters: Parameter[];
  body?: Schema;
}

const document = openApiDocument() as unknown as {
  paths: Record<
    string,
    Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, Schema> } }>
  >;
  components: { schemas: Record<string, Schema> };
};
const operations: Operation[] = Object.entries(document.paths).flatMap(([template, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    method: method.toUpperCase(),
    template,
    parameters: operation.parameters ?? [],
    body: operation.requestBody?.content['application/json']?.schema,
  })),
);
/** Each operation's resource, by its path template (aliases such as /edit/{id} included). */
const resourceByTemplate = new Map<string, ResourceDoc>(
  resources.flatMap((api) => Object.keys(api.paths([])).map((template) => [template, api.resource] as const)),
);
/** What a DELETE of this resource may answer to a valid request besides 204: a 409 when other rows still name it. */
const deleteRestricted = (resource: ResourceDoc | undefined) =>
  resource !== undefined &&
  resources.some(({ resource: other }) =>
    Object.values(other.references ?? {}).some((r) => r.resource === resource.plural && r.onDelete === 'restrict'),
  );
/** Whether the resource documents a 409 (a unique value taken) for this operation. */
const mayConflict = (resource: ResourceDoc | undefined, method: string) => {
  const operation = ({ POST: 'create', PATCH: 'update' } as const)[method as 'POST' | 'PATCH'];
  return operation !== undefined && (resource?.problems?.[operation] ?? []).some((p) => p.status === 409);
};
const resolve = (schema: Schema): Schema =>
  schema.$ref ? (document.components.schemas[schema.$ref.split('/').at(-1)] ?? {}) : schema;

/** Valid values of a schema, as JSON. */
function valid(schema: Schema): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const scalar = validScalar(s);
  if (scalar) return scalar;
  if (s.type === 'object') {
    const properties = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, valid(v as Schema)]));
    return fc
      .record(properties, { requiredKeys: s.required ?? [] })
      .filter((value) => Object.keys(value).length >= (s.minProperties ?? 0));
  }
  return fc.constant(null);
}

const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '9'.repeat(40),
    '-1',
    '1e9',
    '0x10',
    '2147483648',
    '99999999999999999999',
    "'; DROP TABLE cats; --",
    'x'.repeat(2000),
    '',
    ' ',
  ),
);
// Cursors: real-looking documents with keys of every wrong kind, truncated and garbage ones.
const forgedCursor = fc.oneof(
  fc
    .record({
      v: fc.constantFrom(3, 2, '3'),
      s: fc.constantFrom('id', 'name', 'price', 'createdAt', '__proto__'),
      o: fc.constantFrom('asc', 'desc', 'up'),
      f: fc.string({ maxLength: 12 }),
      k: fc.oneof(
        hostileText,
        fc.integer().map(String),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.constant(null),
      ),
      i: fc.oneof(fc.integer(), fc.double(), fc.constant('1')),
    })
    .map(encodeCursor),
  fc.base64String({ maxLength: 80 }),
  hostileText,
);
const odd = (schema: Schema, name: string): fc.Arbitrary<string> =>
  name === 'cursor'
    ? forgedCursor
    : fc.oneof(
        hostileText,
        valid(schema).map((v) => `${String(v)}x`),
        fc.double().map(String),
      );
const oddHeader = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
  fc.constantFrom('*', '"1"', 'W/"1"', '"1", "2"', '""', '"', ',', '"2147483648"', '"99999999999"', 'x'.repeat(300)),
);
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/merge-patch+json',
  'application/vnd.cats+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  undefined,
);

interface Generated {
  operation: Operation;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
  /** Every value came from the document's schemas (and the path's id is a row that exists). */
  allValid: boolean;
  /** A valid JSON object body, whose reference fields are set to rows that exist when it is sent. */
  bodyValue?: Record<string, unknown>;
  /** The Idempotency-Key header came from its schema (the run then makes it unique). */
  validKey?: boolean;
}

/** A row of each resource that exists, by plural, for valid ids and references to name. */
const existingIds = new Map<string, number>();
/** Where a valid path id goes: replaced by the resource's existing row when the request is sent. */
const existingPlaceholder = 'EXISTING-ID';

let keysSent = 0;
/**
 * A valid Idempotency-Key made unique within the run: the document allows a
 * key as short as one character, and a later create that reused one with
 * another body would rightly get 422. The generated value stays as its suffix.
 */
function withUniqueKey(generated: Generated): Record<string, string> {
  const key = generated.headers['idempotency-key'];
  if (key === undefined || !generated.validKey) return generated.headers;
  keysSent += 1;
  return { ...generated.headers, 'idempotency-key': `fuzz-${keysSent}-${key}`.slice(0, 255) };
}

/**
 * A path sent exactly as written: WHATWG URL parsing (fetch, browsers, curl's
 * own dot-segment removal) turns `/.`, `/a/..` and `/%2e` into other paths,
 * maybe a route's, and an empty segment is one the emulator and API Gateway
 * treat differently.
 */
const sentAsWritten = (path: string) => !path.includes('//') && URL.parse(`http://host${path}`)?.pathname === path;

function requestFor(operation: Operation): fc.Arbitrary<Generated> {
  const parameter = (p: Parameter) =>
    fc.oneof(
      { weight: 3, arbitrary: valid(p.schema).map((v) => ({ value: String(v), valid: true })) },
      { weight: 1, arbitrary: odd(p.schema, p.name).map((value) => ({ value, valid: false })) },
    );
  const optional = (p: Parameter) =>
    p.in === 'path' || p.required ? parameter(p) : fc.option(parameter(p), { nil: undefined, freq: 2 });
  const values = fc.tuple(...operation.parameters.map(optional));
  const body = operation.body
    ? fc.oneof(
        { weight: 3, arbitrary: valid(operation.body).map((v) => ({ text: JSON.stringify(v), valid: true })) },
        {
          weight: 1,
          arbitrary: fc
            .oneof(
              fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
              fc.string({ unit: 'binary', maxLength: 100 }),
              fc.constantFrom('{"__proto__":{"name":"x"}}', '{"constructor":1}', '[', '"\\u0000"', '{}', 'null'),
            )
            .map((text) => ({ text, valid: false })),
        },
      )
    : fc.constant(undefined);
  return fc
    .tuple(values, body, operation.body ? contentTypes : fc.constant(undefined), fc.boolean())
    .map(([chosen, payload, contentType, useExisting]) => {
      let path = operation.template;
      const query: Record<string, string> = {};
      const headers: Record<string, string> = {};
      let allValid = payload?.valid ?? true;
      let validKey = false;
      operation.parameters.forEach((p, index) => {
        const picked = chosen[index];
        if (!picked) return;
        if (p.in === 'header' && p.name.toLowerCase() === 'idempotency-key') validKey = picked.valid;
        let value = picked.value;
        if (p.in === 'path' && p.name === 'id' && picked.valid && useExisting) value = existingPlaceholder;
        else if (p.in === 'path' && p.name === 'id' && picked.valid) allValid = false; // may not exist: 404
        if (!picked.valid) allValid = false;
        // An empty segment is another route (/cats/ is /cats under npm start), not this operation.
        if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(value.toWellFormed()) || '%20');
        else if (p.in === 'query') query[p.name] = value;
        else if (/^[\x20-\x7e]*$/.test(value)) headers[p.name.toLowerCase()] = value;
        else allValid = false;
      });
      // Conditional headers make a valid request legitimately fail (304, 412); a cursor must be one we issued.
      if (headers['if-match'] !== undefined || headers['if-none-match'] !== undefined || query.cursor !== undefined) {
        allValid = false;
      }
      const resource = resourceByTemplate.get(operation.template);
      // Each bound valid on its own, the pair reversed: a listing's checks may refuse it.
      if (operation.method === 'GET' && resource && reversedRange(resource.listing, query)) allValid = false;
      if (payload) {
        if (contentType === undefined || !/^application\/([\w.-]+\+)?json\s*(;|$)/.test(contentType)) allValid = false;
        if (contentType !== undefined) headers['content-type'] = contentType;
      }
      // A valid delete may be refused while other rows name it (restrict).
      if (operation.method === 'DELETE' && deleteRestricted(resource)) allValid = false;
      const parsed = payload?.valid ? (JSON.parse(payload.text) as unknown) : undefined;
      const bodyValue =
        parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : undefined;
      return { operation, path, query, headers, body: payload?.text, allValid, validKey, bodyValue };
    })
    .chain((generated) =>
      // Now and then a header the operation does not list, with an odd value.
      fc
        .option(fc.tuple(fc.constantFrom('if-match', 'if-none-match', 'idempotency-key'), oddHeader), { freq: 5 })
        .map((extra) => {
          if (!extra) return generated;
          return {
            ...generated,
            headers: { ...generated.headers, [extra[0]]: extra[1] },
            allValid: false,
            validKey: generated.validKey && extra[0] !== 'idempotency-key',
          };
        }),
    );
}

// Methods and paths no operation has: the catch-all's 404 and 405.
const unmatched: fc.Arbitrary<Generated> = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    fc.oneof(
      fc.constantFrom(
        '/cats',
        '/cats/1',
        '/',
        '/add',
        '/edit/1',
        '/remove/1',
        '/openapi.json',
        '/docs',
        '/docs/init.js',
      ),
      fc.constantFrom('/nope', '/__proto__', '/constructor', '/cats/1/toys', '/cats/%00', '/docs/a/b', '/toString'),
      // No trailing slash: serverless-offline strips it, API Gateway does not, so the answers differ.
      fc.webPath().filter((p) => p.startsWith('/') && !p.endsWith('/') && sentAsWritten(p)),
    ),
  )
  .map(([method, path]) => ({
    operation: { method, template: '', parameters: [] },
    path,
    query: {},
    headers: {},
    allValid: false,
  }));

// INFO: the request lines (with their durations) are in the output a failure prints.
const e2e = useApi('cats_fuzz_http', { env: { POWERTOOLS_LOG_LEVEL: 'INFO' } });

/** Every resource's table, counted and hashed. */
async function tableState(): Promise<string> {
  const states = [];
  for (const { resource } of resources) {
    const table = resource.listing.table;
    const { rows } = await (await e2e.ownerClient()).query(
      `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '') AS state FROM ${table} t`,
    );
    states.push(`${table}=${rows[0].state}`);
  }
  return states.join(' ');
}

/** The body with each reference field (not null) naming the existing row of its resource. */
function withExistingReferences(resource: ResourceDoc | undefined, body: Record<string, unknown>) {
  const filled = { ...body };
  for (const [field, target] of Object.entries(resource?.references ?? {})) {
    if (filled[field] !== undefined && filled[field] !== null) filled[field] = existingIds.get(target.resource);
  }
  return filled;
}

/** Makes sure every resource has a row that exists, creating one (sample 1, references filled) where it is gone. */
async function keepExistingRows(): Promise<void> {
  for (const resource of referencedFirst()) {
    const id = existingIds.get(resource.plural);
    if (id !== undefined) {
      const { rowCount } = await (await e2e.ownerClient()).query(
        `SELECT 1 FROM ${resource.listing.table} WHERE id = $1`,
        [id],
      );
      if (rowCount === 1) continue;
    }
    const body: Record<string, unknown> = { ...resource.sample(1) };
    for (const [field, target] of Object.entries(resource.references ?? {}))
      body[field] = existingIds.get(target.resource);
    const created = await fetch(`${e2e.api.baseUrl}/${resource.plural}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authorizationFor(e2e.api.baseUrl) },
      body: JSON.stringify(body),
    });
    expect(created.status).toBe(201);
    existingIds.set(resource.plural, ((await created.json()) as { id: number }).id);
  }
}

const runs = Number(process.env.CATS_FUZZ_RUNS ?? 5200);
const total = runs * seeds.length;

it(
  `answers ${total} generated requests to every operation of the document (and to none) as the document says, never with a 5xx`,
  async () => {
    await keepExistingRows();
    const counts = { requests: 0, documented: 0, unmatched: 0, accepted: 0, rejected: 0, validAccepted: 0 };
    const arbitrary = fc.oneof(
      { weight: operations.length * 4, arbitrary: fc.constantFrom(...operations).chain(requestFor) },
      { weight: 4, arbitrary: unmatched },
    );
    const property = fc.asyncProperty(arbitrary, async (generated) => {
      const { operation, query } = generated;
      const resource = resourceByTemplate.get(operation.template);
      const headers = withUniqueKey(generated);
      const body = generated.bodyValue
        ? JSON.stringify(withExistingReferences(resource, generated.bodyValue))
        : generated.body;
      const path = generated.path.replace(existingPlaceholder, String(existingIds.get(resource?.plural ?? '')));
      const write = operation.method !== 'GET';
      const before = write ? await tableState() : '';
      const search = new URLSearchParams(query).toString();
      const response = await fetch(`${e2e.api.baseUrl}${path}${search ? `?${search}` : ''}`, {
        method: operation.method,
        // A client with a token of both scopes: the authorizer's own answers are issue 13's tests.
        headers: { ...authorizationFor(e2e.api.baseUrl), ...headers },
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
      });
      const text = await response.text();
      const responseHeaders = Object.fromEntries(response.headers);
      const json = /json/.test(responseHeaders['content-type'] ?? '');
      const reply = {
        status: response.status,
        headers: responseHeaders,
        body: json && text ? JSON.parse(text) : text || undefined,
      };
      counts.requests += 1;
      const what = `${operation.method} ${path}?${search} ${JSON.stringify(headers)} ${String(body).slice(0, 200)}`;
      // The emulator's Lambda timeout answers 200 with an error object: say so, with what the API printed.
      if (reply.status >= 500 || lambdaTimedOut(text)) {
        const printed = e2e.api.output().split('\n').slice(-40).join('\n');
        throw new Error(`${what} answered ${reply.status}: ${text.slice(0, 300)}\nthe API's last lines:\n${printed}`);
      }
      if (reply.status >= 400) {
        expect(responseHeaders['content-type']).toMatch(/^application\/problem\+json/);
        expect(reply.body.status).toBe(reply.status);
        counts.rejected += 1;
        if (write) expect(await tableState()).toBe(before);
      } else {
        counts.accepted += 1;
      }
      // A generated "unmatched" request may hit a real route (GET /cats/%00): then it is that operation's.
      const known = pathTemplate(path.split('?')[0] ?? '');
      const template =
        operation.template ||
        (known && document.paths[known]?.[operation.method.toLowerCase()] !== undefined ? known : '');
      if (template) {
        counts.documented += 1;
        try {
          expectMatchesContract(operation.method, template, reply);
        } catch (error) {
          const seen = `${what}\nanswered ${reply.status} ${JSON.stringify(responseHeaders)} ${text.slice(0, 200)}`;
          throw new Error(`${(error as Error).message}\n${seen}`);
        }
        // A unique value a valid request chose may be taken (the document lists that 409).
        const conflict = reply.status === 409 && mayConflict(resource, operation.method);
        if (generated.allValid && !conflict) {
          if (reply.status >= 400)
            throw new Error(`${what}, made only of valid values, answered ${reply.status}: ${text.slice(0, 300)}`);
          counts.validAccepted += 1;
        }
        // Keep a row of every resource to point valid ids at (a delete may cascade to other resources).
        if (operation.method === 'DELETE' && reply.status === 204) await keepExistingRows();
      } else {
        counts.unmatched += 1;
        expect([404, 405]).toContain(reply.status);
        if (reply.status === 405) expect(responseHeaders.allow).toMatch(/^[A-Z]+(, [A-Z]+)*$/);
      }
    });
    // One seed, or several in this one API process (CATS_FUZZ_SEEDS); a failure names its seed.
    for (const seed of seeds) await fc.assert(property, { numRuns: runs, seed });
    console.log(`contract fuzz, seeds ${seeds.join(', ')}: ${JSON.stringify(counts)}`);
    expect(counts.requests).toBe(total);
    // Both halves of each property were exercised.
    expect(counts.validAccepted).toBeGreaterThan(total / 20);
    expect(counts.rejected).toBeGreaterThan(total / 20);
    expect(counts.unmatched).toBeGreaterThan(total / 50);
  },
  1500000 * seeds.length,
);
