/**
 * Every response the test suite sees is checked against the OpenAPI document:
 * the status must be documented for the operation, required headers present,
 * the media type as documented and the body valid against its schema. So the
 * docs cannot drift from what the handlers really do.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '../../lib/openapi/document.js';

const document = openApiDocument();
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi.json', components: document.components });

interface DocumentedResponse {
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema: unknown }>;
}
type Operations = Record<string, Record<string, { responses: Record<string, DocumentedResponse> }>>;
const paths = document.paths as unknown as Operations;

function withAbsoluteRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/'));
}

const validators = new Map<unknown, ReturnType<typeof ajv.compile>>();
function validatorFor(schema: unknown) {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(withAbsoluteRefs(schema) as object);
    validators.set(schema, validate);
  }
  return validate;
}

/** The documented path template for a request path, e.g. /cats/12 -> /cats/{id}. */
export function pathTemplate(path: string): string | undefined {
  return Object.keys(paths).find((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`).test(path),
  );
}

export interface ObservedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Asserts that `reply` is what the document promises for `method` on `template`. */
export function expectMatchesContract(method: string, template: string, reply: ObservedResponse): void {
  const operation = paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not in the OpenAPI document`);
  const documented = operation.responses[String(reply.status)];
  if (!documented) {
    throw new Error(`${method} ${template} answered ${reply.status}, which the OpenAPI document does not list`);
  }
  for (const [name, spec] of Object.entries(documented.headers ?? {})) {
    if (spec.required && reply.headers[name.toLowerCase()] === undefined) {
      throw new Error(`${method} ${template} ${reply.status} lacks the documented header ${name}`);
    }
  }
  if (!documented.content) {
    if (reply.body !== undefined && reply.body !== '') {
      throw new Error(`${method} ${template} ${reply.status} has a body the document does not describe`);
    }
    return;
  }
  const mediaType = (reply.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const content = documented.content[mediaType];
  if (!content) {
    throw new Error(
      `${method} ${template} ${reply.status} answered ${mediaType}, not ${Object.keys(documented.content)}`,
    );
  }
  const validate = validatorFor(content.schema);
  if (!validate(reply.body)) {
    throw new Error(
      `${method} ${template} ${reply.status} body does not match the document: ${ajv.errorsText(validate.errors)}\n` +
        JSON.stringify(reply.body).slice(0, 500),
    );
  }
}
