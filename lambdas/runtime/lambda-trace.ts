/**
 * Lambda's active tracing without the X-Ray SDK (`parley:tracing` = `active`, the default): Lambda records
 * each invocation's segments itself and names the invocation's trace in `_X_AMZN_TRACE_ID`; what Parley adds
 * of its own, the segment that continues a message's trace in the fanout, goes straight to the X-Ray daemon
 * Lambda runs beside the function, as one UDP datagram in the daemon's documented format. No SDK, no async
 * hooks, nothing to load at a cold start.
 */
import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import type { Environment } from './deps';

/** What X-Ray takes of a segment (its "segment document"); times in epoch seconds. */
export interface SegmentDocument {
  readonly name: string;
  readonly id: string;
  readonly trace_id: string;
  readonly parent_id?: string;
  readonly start_time: number;
  readonly end_time: number;
  readonly origin?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly fault?: true;
  readonly cause?: { readonly exceptions: readonly { readonly id: string; readonly message: string; readonly type: string }[] };
}

/** The invocation's trace as Lambda set it, and the daemon to send segments of our own to. */
export interface LambdaTrace {
  /** Lambda's `Root=…;Parent=…;Sampled=…` of the current invocation; undefined when it traces nothing. */
  header(): string | undefined;
  /** Sends a finished segment to the daemon; fire and forget, as the X-Ray SDK does. */
  send(segment: SegmentDocument): void;
}

/** A new segment id: 64 random bits in hex, as X-Ray wants it. */
export const newSegmentId = (): string => randomBytes(8).toString('hex');

/** The daemon's UDP address from `AWS_XRAY_DAEMON_ADDRESS`: `host:port`, or `tcp:host:port udp:host:port`. */
export function daemonAddressOf(value: string | undefined): { host: string; port: number } | undefined {
  const udp = value?.split(/\s+/).find((part) => part.startsWith('udp:'))?.slice(4) ?? value;
  const match = /^([^:\s]+):(\d+)$/.exec(udp?.trim() ?? '');
  return match ? { host: match[1]!, port: Number(match[2]) } : undefined;
}

let socket: dgram.Socket | undefined;

/**
 * Where Lambda runs several invocations in one process, its runtime keeps each one's trace in a store of
 * its own (`awslambda.InvokeStore`, as Powertools reads it) rather than in the shared environment.
 */
const invokeStoreTraceId = (): string | undefined =>
  (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId?: () => string | undefined } } }).awslambda?.InvokeStore?.getXRayTraceId?.();

/**
 * The trace of the invocation running in this process, read when asked: from the runtime's invocation
 * store, else from `env` (the Node.js runtime sets `_X_AMZN_TRACE_ID` anew for each invocation).
 *
 * @example
 * const trace = lambdaTraceOf(process.env);
 * trace.header(); // 'Root=1-…;Parent=…;Sampled=1' on Lambda with active tracing
 */
export function lambdaTraceOf(env: Environment): LambdaTrace {
  return {
    header: () => invokeStoreTraceId() || env._X_AMZN_TRACE_ID || undefined,
    send: (segment) => {
      const daemon = daemonAddressOf(env.AWS_XRAY_DAEMON_ADDRESS);
      if (!daemon) return;
      // Loaded on the first segment sent, not at import: only the fanout sends any (~2 ms of every other cold start).
      socket ??= (require('node:dgram') as typeof dgram).createSocket('udp4').unref();
      socket.send(`{"format":"json","version":1}\n${JSON.stringify(segment)}`, daemon.port, daemon.host, () => undefined);
    },
  };
}
