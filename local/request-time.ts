const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const twoDigits = (n: number) => String(n).padStart(2, '0');

/**
 * A time as API Gateway writes `requestContext.requestTime` (WebSocket) and `requestContext.time`
 * (HTTP API): Common Log Format in UTC, e.g. `29/Nov/2026:03:30:00 +0000`.
 */
export function formatRequestTime(epochMs: number): string {
  const t = new Date(epochMs);
  const date = `${twoDigits(t.getUTCDate())}/${months[t.getUTCMonth()]}/${t.getUTCFullYear()}`;
  const time = `${twoDigits(t.getUTCHours())}:${twoDigits(t.getUTCMinutes())}:${twoDigits(t.getUTCSeconds())}`;
  return `${date}:${time} +0000`;
}
