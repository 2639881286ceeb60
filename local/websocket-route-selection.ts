/** The one route selection expression the local gateway evaluates: the `action` field of a JSON body. */
export const actionSelectionExpression = '$request.body.action';

/** Route keys a message can never select: they belong to the connection's lifecycle. */
const lifecycleRoutes = new Set(['$connect', '$disconnect']);

/**
 * The route a message goes to under `$request.body.action`: the route whose key equals the body's
 * string `action`; anything else (not JSON, not an object, no string action, no such route) goes to
 * `$default`. Undefined when that is needed but the API has no `$default` route.
 */
export function selectRoute(body: string, routes: Readonly<Record<string, unknown>>): string | undefined {
  let action: unknown;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      action = (parsed as Record<string, unknown>).action;
    }
  } catch {
    // Not JSON: API Gateway sends it to $default.
  }
  if (typeof action === 'string' && Object.hasOwn(routes, action) && !lifecycleRoutes.has(action)) return action;
  return Object.hasOwn(routes, '$default') ? '$default' : undefined;
}
