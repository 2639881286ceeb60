/**
 * Where a local gateway reports what a developer needs to see: refused handshakes, failed integrations,
 * closed connections. One line per event, so the local runtime can print it or a test can collect it.
 */
export type GatewayLog = (line: string) => void;

/** The default: a gateway says nothing unless it is given a log. */
export const silentLog: GatewayLog = () => undefined;

/** Formats `what` and its facts as one line: `websocket: $connect refused status=401 connectionId=...`. */
export function describe(source: string, what: string, facts: Record<string, unknown> = {}): string {
  const details = Object.entries(facts)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${value instanceof Error ? value.message : String(value)}`);
  return [`${source}: ${what}`, ...details].join(' ');
}
