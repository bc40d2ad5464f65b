import { handler } from '../../functions/openapi.js';
import { call, httpEvent } from '../support/lambda.js';
import { declaredFunctions } from '../support/serverless-config.js';

const event = () => {
  const e = httpEvent('list-cats');
  e.routeKey = 'GET /openapi.json';
  e.rawPath = '/openapi.json';
  e.queryStringParameters = undefined;
  return e;
};

it('serves an OpenAPI 3.1 document at GET /openapi.json', async () => {
  const reply = await call(handler, event());
  expect(reply.status).toBe(200);
  expect(reply.body.openapi).toBe('3.1.0');
  expect(reply.body.components.schemas.Cat.required).toEqual(
    expect.arrayContaining(['id', 'name', 'price', 'breed', 'version', 'createdAt', 'updatedAt']),
  );
});

it('documents exactly the HTTP routes that serverless.yml deploys', async () => {
  const deployed = declaredFunctions().flatMap((fn) => fn.routes);
  expect(deployed).toEqual(expect.arrayContaining(['GET /cats', 'POST /add', 'GET /openapi.json']));
  const document = (await call(handler, event())).body;
  const documented = Object.entries(document.paths as Record<string, object>).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
  expect(documented.sort()).toEqual(deployed.sort());
});

it('describes the request body limits the validators enforce', async () => {
  const { NewCat } = (await call(handler, event())).body.components.schemas;
  expect(NewCat).toMatchObject({
    required: ['name', 'price', 'breed'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 100 },
      price: { type: 'integer', minimum: 0, maximum: 2147483647 },
    },
  });
});

it('describes what the API enforces: Idempotency-Key, JSON media types, integer parameters', async () => {
  const document = (await call(handler, event())).body;
  const operations = Object.values(document.paths as Record<string, Record<string, any>>).flatMap((path) =>
    Object.values(path),
  );
  const create = document.paths['/cats'].post;
  expect(create.parameters.find((p: { name: string }) => p.name === 'Idempotency-Key').schema).toEqual({
    type: 'string',
    minLength: 1,
    maxLength: 255,
    pattern: '^[\\x21-\\x7e]+$',
  });
  for (const operation of operations.filter((o) => o.requestBody)) {
    expect(Object.keys(operation.requestBody.content).sort()).toEqual(['application/*+json', 'application/json']);
  }
  const list = document.paths['/cats'].get.parameters as Array<{ name: string; schema: { type: string } }>;
  for (const name of ['limit', 'minPrice', 'maxPrice']) {
    expect(list.find((p) => p.name === name)?.schema.type).toBe('integer');
  }
  expect(document.paths['/cats/{id}'].get.parameters[0].schema.type).toBe('integer');
  for (const operation of operations) expect(operation.description).toEqual(expect.any(String));
  expect(document.components.schemas.FieldError.properties.in).toEqual({
    type: 'string',
    enum: ['body', 'query', 'path', 'header'],
  });
  expect(document.paths['/openapi.json'].get.responses[200].content['application/json'].schema).toMatchObject({
    required: ['openapi', 'info', 'paths'],
  });
  expect(document.paths['/docs/{asset}'].get.responses[404].description).toBe('No such asset.');
  expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
  expect(document.info).toMatchObject({ license: { name: expect.any(String) }, contact: { name: expect.any(String) } });
});
