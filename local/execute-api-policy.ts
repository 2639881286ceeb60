/**
 * Evaluates the IAM policy a REQUEST authorizer returns against the ARN being invoked, as API Gateway
 * does: an explicit Deny wins, otherwise an Allow is needed. Authorizers are user code, so the policy is
 * read defensively (IAM allows a single statement or a list, and a single value or a list per field).
 */

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** IAM wildcards: `*` any run of characters, `?` any one character. */
function wildcardMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

const INVOKE = 'execute-api:Invoke';

function statementApplies(statement: Record<string, unknown>, arn: string): boolean {
  // IAM action names are case-insensitive; resources are not.
  const actions = asList(statement.Action).filter((a): a is string => typeof a === 'string');
  const resources = asList(statement.Resource).filter((r): r is string => typeof r === 'string');
  return actions.some((a) => wildcardMatches(a, INVOKE, true)) && resources.some((r) => wildcardMatches(r, arn));
}

/** Whether `policyDocument` allows invoking `arn`. */
export function policyAllows(policyDocument: unknown, arn: string): boolean {
  const statements = asList((policyDocument as { Statement?: unknown } | undefined)?.Statement).filter(
    (s): s is Record<string, unknown> => typeof s === 'object' && s !== null,
  );
  const applying = statements.filter((s) => statementApplies(s, arn));
  if (applying.some((s) => s.Effect === 'Deny')) return false;
  return applying.some((s) => s.Effect === 'Allow');
}
