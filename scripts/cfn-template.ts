/**
 * A packaged CloudFormation template read as CloudFormation would read it:
 * its Conditions evaluated (the template's own, on literal values), every
 * Fn::If resolved, and the resources that would exist. Used by the deploy's
 * preflight (scripts/preflight.ts) and the template tests (test/deploy).
 */
export interface Resource {
  Type: string;
  Condition?: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  [key: string]: unknown;
}

export interface Template {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Evaluates the template's Conditions (Equals on literals, Not, And, Or, Condition). */
export function evaluateConditions(template: Template): Record<string, boolean> {
  const definitions = template.Conditions ?? {};
  const results: Record<string, boolean> = {};
  const evaluate = (expression: unknown): boolean => {
    if (!isObject(expression)) throw new Error(`not a condition: ${JSON.stringify(expression)}`);
    const [[fn, args]] = Object.entries(expression) as [[string, unknown]];
    switch (fn) {
      case 'Condition':
        return condition(args as string);
      case 'Fn::Not':
        return !evaluate((args as unknown[])[0]);
      case 'Fn::And':
        return (args as unknown[]).every(evaluate);
      case 'Fn::Or':
        return (args as unknown[]).some(evaluate);
      case 'Fn::Equals': {
        const [a, b] = args as unknown[];
        if (typeof a !== 'string' || typeof b !== 'string') throw new Error(`Equals on non-literals: ${args}`);
        return a === b;
      }
      default:
        throw new Error(`unsupported condition function ${fn}`);
    }
  };
  const condition = (name: string): boolean => {
    if (!(name in definitions)) throw new Error(`unknown condition ${name}`);
    results[name] ??= evaluate(definitions[name]);
    return results[name] as boolean;
  };
  for (const name of Object.keys(definitions)) condition(name);
  return results;
}

/** Replaces every Fn::If by the branch the conditions choose. */
export function resolveIfs(value: unknown, conditions: Record<string, boolean>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIfs(item, conditions));
  if (!isObject(value)) return value;
  const choice = value['Fn::If'];
  if (Array.isArray(choice) && Object.keys(value).length === 1) {
    const [name, whenTrue, whenFalse] = choice as [string, unknown, unknown];
    if (!(name in conditions)) throw new Error(`Fn::If on unknown condition ${name}`);
    return resolveIfs(conditions[name] ? whenTrue : whenFalse, conditions);
  }
  // A property whose value resolves to AWS::NoValue is left out, as CloudFormation does.
  const isNoValue = (item: unknown) => isObject(item) && item.Ref === 'AWS::NoValue';
  return Object.fromEntries(
    Object.entries(value)
      .map(([key, item]) => [key, resolveIfs(item, conditions)] as const)
      .filter(([, item]) => !isNoValue(item)),
  );
}

/** The resources CloudFormation would create, with every Fn::If resolved. */
export function activeResources(template: Template): Record<string, Resource> {
  const conditions = evaluateConditions(template);
  return Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Condition === undefined || conditions[resource.Condition])
      .map(([id, resource]) => [id, resolveIfs(resource, conditions) as Resource]),
  );
}
