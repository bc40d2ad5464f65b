import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { catIdSchema, catPatchSchema, listQuerySchema, newCatSchema } from '../../lib/cats/schema.js';
import { bodyPointer, HttpProblem } from '../../lib/http/problem.js';
import { jsonBody, validate } from '../../lib/http/request.js';

const event = (headers: Record<string, string>, body?: unknown, isBase64Encoded = false) =>
  ({ headers, body, isBase64Encoded }) as unknown as APIGatewayProxyEventV2;

/** What `run` threw; fails the test if it returned. */
function thrown(run: () => unknown): HttpProblem {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error('expected an HttpProblem');
}

describe('jsonBody', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/x+json',
    'application/merge-patch+json',
  ])('parses the body sent as %p', (type) => {
    expect(jsonBody(event({ 'content-type': type }, '{"name":"Tom"}'))).toEqual({ name: 'Tom' });
  });

  it('finds the content type whatever the case of the header name', () => {
    expect(jsonBody(event({ 'Content-Type': 'application/json' }, '[1]'))).toEqual([1]);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/jsonp', { 'content-type': 'application/jsonp' }],
    ['application/x-www-form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['a missing content type', {}],
  ])('answers %s with 415 naming the content-type header', (_label, headers) => {
    const problem = thrown(() => jsonBody(event(headers, '{}')));
    expect(problem.status).toBe(415);
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'content-type', in: 'header' })]);
  });

  it('decodes base64-encoded bodies, as UTF-8', () => {
    const body = Buffer.from('{"name":"Émile 🐱"}').toString('base64');
    expect(jsonBody(event({ 'content-type': 'application/json' }, body, true))).toEqual({ name: 'Émile 🐱' });
  });

  it.each([
    ['missing', undefined, /is required/],
    ['white space only', ' \n', /is required/],
    ['invalid JSON', '{"name":', /is not valid JSON/],
    ['a trailing comma', '{"a":1,}', /is not valid JSON/],
  ])('answers a body that is %s with 400 naming body', (_label, body, detail) => {
    const problem = thrown(() => jsonBody(event({ 'content-type': 'application/json' }, body)));
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      { field: 'body', in: 'body', detail: expect.stringMatching(detail), pointer: '#' },
    ]);
  });
});

describe('jsonBody under serverless-offline (npm start)', () => {
  const json = { 'content-type': 'application/json' };

  // serverless-offline parses a JSON body itself and, for a falsy value,
  // hands the handler that value where Lambda hands the text.
  it.each([
    ['false', false],
    ['0', 0],
  ])('reads the body %s, handed over parsed, as Lambda gives it: the same value', (text, parsed) => {
    expect(jsonBody(event(json, parsed))).toEqual(jsonBody(event(json, text)));
    expect(jsonBody(event(json, parsed))).toBe(JSON.parse(text));
  });

  it('answers a null body (what serverless-offline gives for `null` and for none) with 400: a body is required', () => {
    const problem = thrown(() => jsonBody(event(json, null)));
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      { field: 'body', in: 'body', detail: expect.stringMatching(/is required/), pointer: '#' },
    ]);
  });
});

describe('validate', () => {
  it('returns the parsed, transformed value when valid', () => {
    expect(validate(catIdSchema, { id: '42' }, 'path')).toEqual({ id: 42 });
  });

  it('lists every body field at fault with a JSON pointer', () => {
    const problem = thrown(() => validate(newCatSchema, { name: ' ', price: '5' }, 'body'));
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      {
        field: 'name',
        in: 'body',
        detail: 'must not be empty or only white space or invisible characters',
        pointer: '#/name',
      },
      {
        field: 'price',
        in: 'body',
        detail: 'must be an integer from 0 to 2147483647, sent as a JSON number',
        pointer: '#/price',
      },
      { field: 'breed', in: 'body', detail: 'is required', pointer: '#/breed' },
    ]);
    expect(problem.detail).toBe(
      'name must not be empty or only white space or invisible characters; price must be an integer from 0 to 2147483647, sent as a JSON number; breed is required',
    );
  });

  it('reports one error per unknown body key', () => {
    const problem = thrown(() =>
      validate(newCatSchema, { name: 'Tom', price: 1, breed: 'x', id: 1, owner: 2 }, 'body'),
    );
    expect(problem.errors).toEqual([
      { field: 'id', in: 'body', detail: 'is not a field you can set', pointer: '#/id' },
      { field: 'owner', in: 'body', detail: 'is not a field you can set', pointer: '#/owner' },
    ]);
  });

  it.each([
    [catPatchSchema, {}],
    [newCatSchema, []],
  ])('names the whole body when the body itself is at fault', (schema, input) => {
    const problem = thrown(() => validate(schema, input, 'body'));
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'body', pointer: '#' })]);
  });

  it('names query and path fields without a pointer', () => {
    expect(thrown(() => validate(listQuerySchema, { limit: '0', page: '2' }, 'query')).errors).toEqual([
      { field: 'limit', in: 'query', detail: 'must be an integer from 1 to 100' },
      { field: 'page', in: 'query', detail: 'is not a known parameter' },
    ]);
    expect(thrown(() => validate(catIdSchema, { id: '01' }, 'path')).errors).toEqual([
      { field: 'id', in: 'path', detail: 'must be a positive integer up to 2147483647' },
    ]);
  });
});

describe('bodyPointer', () => {
  it.each([
    [['price'], '#/price'],
    [['a/b'], '#/a~1b'],
    [['a~b'], '#/a~0b'],
    [['with space'], '#/with%20space'],
    [['tags', 0], '#/tags/0'],
    [[], '#'],
  ])('writes the path %j as the JSON Pointer fragment %s (RFC 6901)', (path, pointer) => {
    expect(bodyPointer(path)).toBe(pointer);
  });

  it('points at an unknown key containing a slash without splitting it', () => {
    const problem = (() => {
      try {
        validate(newCatSchema, { name: 'a', price: 1, breed: 'b', 'x/y': 1 }, 'body');
      } catch (error) {
        return error as HttpProblem;
      }
    })();
    expect(problem?.errors).toEqual([expect.objectContaining({ field: 'x/y', pointer: '#/x~1y' })]);
  });
});
