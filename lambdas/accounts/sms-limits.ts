/**
 * The limits that keep anyone from pumping SMS through the code route: per source address, per number
 * prefix, and a daily budget for the whole deployment (see `SmsLimits`). Each is a fixed-window counter
 * in `smsSendCounts`; the per-number limits live with the code itself (`verificationCodes`).
 */
import * as z from '../protocol/zod';
import { rateLimited } from '../protocol/errors';
import { env } from '../resources';
import type { Deps } from '../runtime/deps';
import { logger } from '../runtime/observability';
import { giveBackSmsCount, takeSmsCount, type SmsCountWindow } from '../tables/sms-send-counts';
import { NUMBER_PREFIX_DIGITS, type SmsLimits } from './constants';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

const count = z.number().check(z.int(), z.positive());
const SmsLimitsJson = z.object({ perSourceIpPerHour: count, perNumberPrefixPerHour: count, perDay: count });

/** The function's SMS limits, from its `SMS_LIMITS` environment variable. */
export function smsLimitsOf(deps: Deps): SmsLimits {
  const json = deps.env[env.smsLimits];
  if (!json) throw new Error(`Environment variable ${env.smsLimits} is not set for this function`);
  return SmsLimitsJson.parse(JSON.parse(json));
}

/** The prefix a number is counted under: its first digits, country calling code included. */
export const numberPrefixOf = (phoneNumber: string): string => phoneNumber.slice(0, 1 + NUMBER_PREFIX_DIGITS);

/**
 * The network a source address is counted under: an IPv4 address itself; for IPv6 its /64, since one
 * subscriber is given a whole /64 and can send from any address in it.
 */
export function sourceNetworkOf(sourceIp: string): string {
  const mappedIpv4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(sourceIp);
  if (mappedIpv4) return mappedIpv4[1]!;
  if (!sourceIp.includes(':')) return sourceIp;
  const [head = '', tail = ''] = sourceIp.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = sourceIp.includes('::') && tail ? tail.split(':') : [];
  const groups = [...headGroups, ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

interface LimitedWindow extends SmsCountWindow {
  /** Why the request was refused, when this window is full. */
  readonly refusal: string;
}

/** The windows a code to `phoneNumber` from `sourceIp` at `now` is counted in, in the order they are taken. */
function windowsOf(limits: SmsLimits, sourceIp: string, phoneNumber: string, now: number): LimitedWindow[] {
  const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const day = Math.floor(now / DAY_MS) * DAY_MS;
  const hourLabel = new Date(hour).toISOString();
  return [
    // Narrowest first: a pumping burst from one network is refused at its first write.
    {
      counter: `sourceIp#${sourceNetworkOf(sourceIp)}#${hourLabel}`,
      limit: limits.perSourceIpPerHour,
      endsAt: hour + HOUR_MS,
      refusal: 'Too many codes requested from this network',
    },
    {
      counter: `numberPrefix#${numberPrefixOf(phoneNumber)}#${hourLabel}`,
      limit: limits.perNumberPrefixPerHour,
      endsAt: hour + HOUR_MS,
      refusal: 'Too many codes requested for numbers in this range',
    },
    {
      counter: `day#${new Date(day).toISOString().slice(0, 10)}`,
      limit: limits.perDay,
      endsAt: day + DAY_MS,
      refusal: 'The service has sent all the codes it may send today',
    },
  ];
}

/** Counts that a request took and must give back if it ends up sending nothing. */
export interface SmsAllowance {
  giveBack(): Promise<void>;
}

/**
 * Counts one SMS in every window, or refuses with RATE_LIMITED (`retryAfterSeconds`: until the full
 * window ends). A refused request gives back the counts it took before the full window, so it consumes
 * nothing; if giving back fails, the counts stay taken (too strict for the rest of the hour, never too lax).
 */
export async function takeSmsAllowance(
  deps: Deps,
  limits: SmsLimits,
  request: { readonly sourceIp: string; readonly phoneNumber: string },
): Promise<SmsAllowance> {
  const now = deps.now();
  const taken: string[] = [];
  const allowance: SmsAllowance = {
    giveBack: async () => {
      const results = await Promise.allSettled(taken.map((counter) => giveBackSmsCount(deps, counter)));
      const failed = results.filter((result) => result.status === 'rejected').length;
      if (failed > 0) logger.warn('SMS counts not given back', { failed });
    },
  };
  for (const window of windowsOf(limits, request.sourceIp, request.phoneNumber, now)) {
    if (!(await takeSmsCount(deps, window))) {
      await allowance.giveBack();
      throw rateLimited(window.refusal, window.endsAt - now);
    }
    taken.push(window.counter);
  }
  return allowance;
}
