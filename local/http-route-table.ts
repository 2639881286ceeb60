/**
 * Route matching of an HTTP API: `METHOD /path` route keys whose paths may hold `{name}` parameters (one
 * segment) and a final greedy `{name+}` (the rest of the path). When several routes match, the most
 * specific wins, as on API Gateway: a literal segment beats a parameter, a parameter beats a greedy one,
 * and a route's own method beats `ANY`.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** What the table needs to know of a route. */
export interface RoutePattern {
  readonly method: HttpMethod | 'ANY';
  /** API Gateway path syntax, e.g. `/v1/devices/{deviceId}`. */
  readonly path: string;
}

export interface RouteMatch<R extends RoutePattern> {
  readonly route: R;
  /** `GET /v1/devices/{deviceId}`, as events carry it. */
  readonly routeKey: string;
  /** Decoded values of the path's parameters; empty when it has none. */
  readonly pathParameters: Record<string, string>;
}

type Segment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'parameter'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

/** How specific a segment is: higher wins. */
const rank = { literal: 2, parameter: 1, greedy: 0 } as const;

function parsePath(path: string): Segment[] {
  return path
    .split('/')
    .slice(1)
    .map((part): Segment => {
      const parameter = /^\{([^{}]+?)(\+?)\}$/.exec(part);
      if (!parameter) return { kind: 'literal', text: part };
      return parameter[2] ? { kind: 'greedy', name: parameter[1]! } : { kind: 'parameter', name: parameter[1]! };
    });
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The parameters of `pathParts` under `pattern`, or undefined if the path does not match it. */
function matchSegments(pattern: Segment[], pathParts: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [i, segment] of pattern.entries()) {
    const part = pathParts[i];
    if (part === undefined) return undefined;
    if (segment.kind === 'greedy') {
      const rest = pathParts.slice(i);
      if (rest.some((p) => p === '')) return undefined;
      parameters[segment.name] = decode(rest.join('/'));
      return parameters;
    }
    if (segment.kind === 'literal' && segment.text !== part) return undefined;
    if (segment.kind === 'parameter') {
      if (part === '') return undefined;
      parameters[segment.name] = decode(part);
    }
  }
  return pattern.length === pathParts.length ? parameters : undefined;
}

/** Whether specificity `a` beats `b`, compared segment by segment from the left. */
function moreSpecific(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) > (b[i] ?? -1);
  }
  return false;
}

/** Compiles routes into a matcher from method and raw path to the route that serves them. */
export function routeTable<R extends RoutePattern>(routes: readonly R[]): (method: string, path: string) => RouteMatch<R> | undefined {
  const compiled = routes.map((route) => {
    const segments = parsePath(route.path);
    // The method counts last: a route's own method only breaks a tie with ANY.
    const specificity = [...segments.map((segment) => rank[segment.kind]), route.method === 'ANY' ? 0 : 1];
    return { route, segments, specificity };
  });
  return (method, path) => {
    const pathParts = path.split('/').slice(1);
    let best: { match: RouteMatch<R>; specificity: number[] } | undefined;
    for (const { route, segments, specificity } of compiled) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const pathParameters = matchSegments(segments, pathParts);
      if (!pathParameters) continue;
      if (!best || moreSpecific(specificity, best.specificity)) {
        best = { match: { route, routeKey: `${route.method} ${route.path}`, pathParameters }, specificity };
      }
    }
    return best?.match;
  };
}
