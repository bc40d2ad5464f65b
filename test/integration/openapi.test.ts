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
