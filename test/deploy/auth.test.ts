/**
 * Who may call the deployed API, from the packaged CloudFormation template:
 * API Gateway's JWT authorizer on every write route (cats/write), on reads
 * only with authReads=true (cats/read), never on the documentation; the
 * stack's own Cognito issuer by default, another OIDC issuer with authIssuer
 * and authAudience; no authorizer at all only with authOpen=true.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { openApiDocument } from '../../lib/openapi/document.js';
import type { ApiAuth } from '../../lib/openapi/operations.js';
import { nagFindings } from './cdk-nag.js';
import { validateTemplateFile } from './cfn-validate.js';
import { unexplained } from './cfn-validate-explained.js';
import {
  activeResources,
  evaluateConditions,
  ofType,
  type Packaged,
  packageService,
  type Resource,
} from './template.js';

const external = {
  authIssuer: 'https://login.example.com/',
  authAudience: 'https://cats.example.com',
};
const cognitoTypes = [
  'AWS::Cognito::UserPool',
  'AWS::Cognito::UserPoolResourceServer',
  'AWS::Cognito::UserPoolClient',
  'AWS::Cognito::UserPoolDomain',
];

let dev: Packaged;
let prod: Packaged;
let externalReads: Packaged;
let open: Packaged;

beforeAll(async () => {
  dev = await packageService('dev');
  prod = await packageService('prod');
  externalReads = await packageService('dev', { ...external, authReads: 'true' });
  open = await packageService('dev', { authOpen: 'true' });
}, 300000);

afterAll(async () => {
  for (const packaged of [dev, prod, externalReads, open]) {
    if (packaged) await rm(packaged.dir, { recursive: true, force: true });
  }
});

interface Route {
  key: string;
  type?: unknown;
  authorizer?: unknown;
  scopes?: unknown;
}

/** The API's routes, without $default: the catch-all's 404/405 are public (checked below). */
function routes(packaged: Packaged): Route[] {
  return ofType(activeResources(packaged.template), 'AWS::ApiGatewayV2::Route')
    .map(([, route]) => ({
      key: route.Properties?.RouteKey as string,
      type: route.Properties?.AuthorizationType,
      authorizer: route.Properties?.AuthorizerId,
      scopes: route.Properties?.AuthorizationScopes,
    }))
    .filter((route) => route.key !== '$default');
}

it('leaves the catch-all ($default: 404 and 405 problems) public on every stage', () => {
  for (const packaged of [dev, prod, externalReads, open]) {
    const catchAll = ofType(activeResources(packaged.template), 'AWS::ApiGatewayV2::Route').find(
      ([, route]) => route.Properties?.RouteKey === '$default',
    );
    expect(catchAll?.[1].Properties?.AuthorizerId).toBeUndefined();
  }
});

const isRead = (key: string) => /^(GET|HEAD) /.test(key);
const isDocs = (key: string) => / \/(docs|openapi\.json)\b/.test(key);
const jwt = (scope: string) => ({ type: 'JWT', authorizer: { Ref: 'HttpApiAuthorizerCats' }, scopes: [scope] });
const none = { type: undefined, authorizer: undefined, scopes: undefined };

/** The scopes the OpenAPI document says a route needs, under these rules. */
function documentedScopes(auth: ApiAuth): Record<string, string[]> {
  const scopes: Record<string, string[]> = {};
  for (const [path, operations] of Object.entries(openApiDocument(auth).paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const security = (operation as { security?: Record<string, string[]>[] }).security;
      scopes[`${method.toUpperCase()} ${path}`] =
        security?.flatMap((requirement) => Object.values(requirement).flat()) ?? [];
    }
  }
  return scopes;
}

function functionsEnv(packaged: Packaged, name: string): unknown[] {
  return ofType(activeResources(packaged.template), 'AWS::Lambda::Function').map(
    ([, fn]) => (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.[name],
  );
}

describe.each([
  ['dev', () => dev],
  ['prod', () => prod],
])('the %s stage, by default', (_stage, packaged) => {
  it('requires a token with cats/write on every write route, the tutorial ones included, and none on reads or the docs', () => {
    const all = routes(packaged());
    expect(all.map((route) => route.key)).toEqual(
      expect.arrayContaining(['POST /add', 'PATCH /edit/{id}', 'DELETE /remove/{id}', 'POST /cats', 'GET /docs']),
    );
    for (const route of all) {
      const { key, ...auth } = route;
      expect([key, auth]).toEqual([key, isRead(key) ? none : jwt('cats/write')]);
    }
  });

  it('says in its OpenAPI document exactly what the routes require', () => {
    const documented = documentedScopes('writes');
    for (const route of routes(packaged())) {
      expect([route.key, documented[route.key]]).toEqual([route.key, (route.scopes as string[] | undefined) ?? []]);
    }
    expect(new Set(functionsEnv(packaged(), 'API_AUTH'))).toEqual(new Set(['writes']));
  });

  it("checks tokens of the stack's own Cognito user pool, for its app client, taken from the Authorization header", () => {
    const resources = activeResources(packaged().template);
    const [[, authorizer]] = ofType(resources, 'AWS::ApiGatewayV2::Authorizer') as [[string, Resource]];
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        // Cognito's access tokens carry the app client's id as client_id, which API Gateway compares.
        Audience: [{ Ref: 'AuthAppClient' }],
        Issuer: {
          'Fn::Join': [
            '',
            ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: 'AuthUserPool' }],
          ],
        },
      },
    });
  });

  it('creates a user pool with a cats resource server (read, write) and a client-credentials app client with a generated secret', () => {
    const resources = activeResources(packaged().template);
    for (const type of cognitoTypes) expect([type, ofType(resources, type).length]).toEqual([type, 1]);
    const [[, server]] = ofType(resources, 'AWS::Cognito::UserPoolResourceServer') as [[string, Resource]];
    expect(server.Properties).toMatchObject({
      Identifier: 'cats',
      Scopes: [expect.objectContaining({ ScopeName: 'read' }), expect.objectContaining({ ScopeName: 'write' })],
    });
    const [[, client]] = ofType(resources, 'AWS::Cognito::UserPoolClient') as [[string, Resource]];
    expect(client.Properties).toMatchObject({
      GenerateSecret: true,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: ['cats/read', 'cats/write'],
    });
    expect([client.DependsOn].flat()).toEqual(['AuthResourceServer']);
    const [[, pool]] = ofType(resources, 'AWS::Cognito::UserPool') as [[string, Resource]];
    expect(pool.Properties?.AdminCreateUserConfig).toEqual({ AllowAdminCreateUserOnly: true });
  });

  it("logs in the HTTP API's access log why the authorizer refused a request, or whom it accepted", () => {
    const stage = activeResources(packaged().template).HttpApiStage as Resource;
    const format = JSON.parse((stage.Properties?.AccessLogSettings as { Format?: string } | undefined)?.Format ?? '{}');
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      authorizerError: '$context.authorizer.error',
      sub: '$context.authorizer.claims.sub',
      clientId: '$context.authorizer.claims.client_id',
    });
  });

  it('outputs what a machine caller needs (token URL, client id) but never the client secret', () => {
    const { text, template } = packaged();
    expect(Object.keys(template.Outputs ?? {})).toEqual(
      expect.arrayContaining(['AuthIssuerUrl', 'AuthTokenUrl', 'AuthUserPoolId', 'AuthClientId']),
    );
    expect(text).not.toMatch(/ClientSecret/i);
  });

  it("tells the openapi function the stage's token URL (its Cognito domain), so the document's oauth2 flow names it", () => {
    const tokenUrl = functionsEnv(packaged(), 'API_AUTH_SERVER').filter((value) => value !== undefined);
    const output = (packaged().template.Outputs?.AuthTokenUrl as { Value?: unknown } | undefined)?.Value;
    // activeResources resolves the stage's conditions: the Cognito domain's token URL, as the stack outputs it.
    expect(tokenUrl).toEqual([output]);
  });
});

describe('with authIssuer, authAudience and authReads=true', () => {
  it('checks tokens of that issuer for that audience, and creates no Cognito resource', () => {
    const resources = activeResources(externalReads.template);
    const [[, authorizer]] = ofType(resources, 'AWS::ApiGatewayV2::Authorizer') as [[string, Resource]];
    expect(authorizer.Properties?.JwtConfiguration).toEqual({
      Audience: [external.authAudience],
      Issuer: external.authIssuer,
    });
    for (const type of cognitoTypes) expect([type, ofType(resources, type)]).toEqual([type, []]);
    // Outputs of the Cognito issuer only exist with it.
    const conditions = evaluateConditions(externalReads.template);
    const auth = Object.entries(externalReads.template.Outputs ?? {}).filter(([name]) => name.startsWith('Auth'));
    expect(auth.length).toBeGreaterThan(0);
    for (const [name, output] of auth) {
      const condition = (output as { Condition?: string }).Condition ?? '';
      expect([name, conditions[condition]]).toEqual([name, false]);
    }
  });

  it('requires cats/read on every read route but the docs, cats/write on every write, and says so in the document', () => {
    const documented = documentedScopes('reads-and-writes');
    for (const route of routes(externalReads)) {
      const { key, ...auth } = route;
      const expected = isDocs(key) ? none : jwt(isRead(key) ? 'cats/read' : 'cats/write');
      expect([key, auth]).toEqual([key, expected]);
      expect([key, documented[key]]).toEqual([key, expected.scopes ?? []]);
    }
    expect(new Set(functionsEnv(externalReads, 'API_AUTH'))).toEqual(new Set(['reads-and-writes']));
    expect(functionsEnv(externalReads, 'API_AUTH_SERVER').filter((value) => value !== undefined)).toEqual([
      `${external.authIssuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    ]);
  });
});

describe('with authOpen=true', () => {
  it('has no authorizer on any route, no authorizer and no Cognito resource, and tells the document', () => {
    const resources = activeResources(open.template);
    for (const route of routes(open)) expect([route.key, route.type]).toEqual([route.key, undefined]);
    expect(ofType(resources, 'AWS::ApiGatewayV2::Authorizer')).toEqual([]);
    for (const type of cognitoTypes) expect([type, ofType(resources, type)]).toEqual([type, []]);
    expect(new Set(functionsEnv(open, 'API_AUTH'))).toEqual(new Set(['open']));
  });
});

it('refuses to package an external issuer without its audience', async () => {
  await expect(packageService('dev', { authIssuer: external.authIssuer })).rejects.toThrow(
    /authIssuer and authAudience go together/,
  );
}, 120000);

it.each([
  ['dev', () => dev],
  ['prod', () => prod],
  ['dev with an external issuer and authReads=true', () => externalReads],
  ['dev with authOpen=true', () => open],
])('the %s template passes the CloudFormation validator and cdk-nag, but for what is explained', (_name, packaged) => {
  const file = path.join(packaged().dir, 'cloudformation-template-update-stack.json');
  const diagnostics = validateTemplateFile(file);
  expect(diagnostics.filter((d) => d.severity !== 'WARN')).toEqual([]);
  expect(unexplained(diagnostics)).toEqual([]);
  expect(nagFindings(file)).toEqual([]);
});
