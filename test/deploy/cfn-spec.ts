/**
 * Checks a template against the CloudFormation resource specification
 * (@aws-cdk/cfnspec): every resource type and property name exists, required
 * properties are there, nested property objects use known keys, and every
 * Ref, Fn::GetAtt and Condition points at something the template defines.
 * A typo here is otherwise found by a failed (and slow to roll back) deploy.
 */
import { createRequire } from 'node:module';
import type { Template } from './template.js';

interface PropertySpec {
  Required?: boolean;
  Type?: string;
  ItemType?: string;
  PrimitiveType?: string;
  PrimitiveItemType?: string;
}
interface TypeSpec {
  Properties?: Record<string, PropertySpec>;
  Attributes?: Record<string, unknown>;
}
interface Specification {
  ResourceSpecificationVersion: string;
  ResourceTypes: Record<string, TypeSpec>;
  PropertyTypes: Record<string, TypeSpec>;
}

const require = createRequire(import.meta.url);
export const specification: Specification = require('@aws-cdk/cfnspec/spec/specification.json');

const pseudoParameters = new Set([
  'AWS::AccountId',
  'AWS::NoValue',
  'AWS::NotificationARNs',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntrinsic(value: unknown): boolean {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || (keys[0] ?? '').startsWith('Fn::'));
}

export function validateTemplate(template: Template): string[] {
  const problems: string[] = [];
  const resources = template.Resources;
  const conditions = new Set(Object.keys(template.Conditions ?? {}));
  const parameters = new Set(Object.keys((template as { Parameters?: object }).Parameters ?? {}));

  const checkObject = (where: string, resourceType: string, spec: TypeSpec, value: unknown) => {
    if (!isObject(value) || isIntrinsic(value)) return;
    const properties = spec.Properties ?? {};
    for (const [name, propertySpec] of Object.entries(properties)) {
      if (propertySpec.Required && !(name in value)) problems.push(`${where}: required property ${name} is missing`);
    }
    for (const [name, item] of Object.entries(value)) {
      const propertySpec = properties[name];
      if (!propertySpec) {
        problems.push(`${where}: ${resourceType} has no property ${name}`);
        continue;
      }
      const nestedType = propertySpec.ItemType ?? (propertySpec.Type !== 'List' ? propertySpec.Type : undefined);
      if (!nestedType || nestedType === 'Map' || nestedType === 'List') continue;
      const nested =
        specification.PropertyTypes[`${resourceType}.${nestedType}`] ?? specification.PropertyTypes[nestedType];
      if (!nested) continue;
      const items = propertySpec.Type === 'List' && Array.isArray(item) ? item : [item];
      items.forEach((entry, index) => {
        checkObject(`${where}.${name}${items.length > 1 ? `[${index}]` : ''}`, resourceType, nested, entry);
      });
    }
  };

  const checkReferences = (where: string, value: unknown) => {
    if (Array.isArray(value)) {
      for (const item of value) checkReferences(where, item);
      return;
    }
    if (!isObject(value)) return;
    if (typeof value.Ref === 'string') {
      const target = value.Ref;
      if (!(target in resources) && !pseudoParameters.has(target) && !parameters.has(target)) {
        problems.push(`${where}: Ref to unknown ${target}`);
      }
    }
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) {
      const [target, attribute] = getAtt as [string, string];
      const type = resources[target]?.Type;
      if (!type) problems.push(`${where}: Fn::GetAtt on unknown resource ${target}`);
      else if (!type.startsWith('Custom::') && !(attribute in (specification.ResourceTypes[type]?.Attributes ?? {}))) {
        problems.push(`${where}: ${type} has no attribute ${attribute}`);
      }
    }
    for (const key of ['Condition', 'Fn::If']) {
      const name = key === 'Condition' ? value[key] : (value[key] as unknown[] | undefined)?.[0];
      if (typeof name === 'string' && !conditions.has(name)) problems.push(`${where}: unknown condition ${name}`);
    }
    for (const [key, item] of Object.entries(value)) checkReferences(`${where}.${key}`, item);
  };

  for (const [id, resource] of Object.entries(resources)) {
    const spec = specification.ResourceTypes[resource.Type];
    if (!spec) {
      problems.push(`${id}: unknown resource type ${resource.Type}`);
      continue;
    }
    if (resource.Condition !== undefined && !conditions.has(resource.Condition)) {
      problems.push(`${id}: unknown condition ${resource.Condition}`);
    }
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      const value = resource[policy];
      if (value !== undefined && !['Delete', 'Retain', 'Snapshot', 'RetainExceptOnCreate'].includes(value)) {
        problems.push(`${id}: ${policy} ${value} is not a policy`);
      }
    }
    checkObject(id, resource.Type, spec, resource.Properties ?? {});
    checkReferences(id, resource.Properties);
    for (const dependency of [resource.DependsOn ?? []].flat() as string[]) {
      if (!(dependency in resources)) problems.push(`${id}: DependsOn unknown ${dependency}`);
    }
  }
  checkReferences('Outputs', template.Outputs);
  checkReferences('Conditions', template.Conditions);
  return problems;
}
