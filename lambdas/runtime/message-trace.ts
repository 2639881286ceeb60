/**
 * One X-Ray trace per message. API Gateway's WebSocket and HTTP APIs start no trace, so a message's trace
 * begins in the function that accepts it (SEND, GROUP_SEND, DELIVERED, READ). That function writes its
 * trace header into the stream record; the stream consumer continues the trace from it, one segment per
 * record, and also records each record as a subsegment of its own batch's trace, linked by trace id. Every
 * one of these is annotated with the message's ids, so X-Ray's `annotation.msgId = "…"` finds them all.
 *
 * Two ways, as `parley:tracing` chooses (lib/functions.ts): with the X-Ray SDK (`subsegments`, a Powertools
 * `tracer` in the deps), all of the above, each AWS call a subsegment; with Lambda's active tracing alone
 * (`active`, a `lambdaTrace` in the deps, no SDK in the bundle), Lambda's own segments per invocation, the
 * trace header put from Lambda's, and the fanout's segment continuing it (annotated as above), sent to the
 * daemon by lambda-trace.ts; the route's annotations and the `### stream record` subsegments are left out.
 *
 * Everything here takes the deps' tracing as a parameter and does nothing without it: the local runtime and
 * tests run without X-Ray (neither in their deps).
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Segment, Subsegment } from 'aws-xray-sdk-core';
import { MAX_ACKNOWLEDGED, idOfCursor } from '../protocol/frames';
import type { Deps } from './deps';
import { newSegmentId, type LambdaTrace } from './lambda-trace';

/** How the function traces: the deps' `tracer` (X-Ray SDK) or `lambdaTrace` (active tracing alone), or neither. */
export type Tracing = Pick<Deps, 'tracer' | 'lambdaTrace'>;

/** The ids of a message, receipt or page that a trace is searched by. */
export interface MessageIds {
  readonly msgId?: string;
  /** Several messages (a DELIVERED, a receipt, a SYNC page), comma-separated in one annotation. */
  readonly msgIds?: readonly string[];
  readonly conversationId?: string;
}

/** Longer values are not ids a valid frame could carry; they are left out rather than logged. */
const MAX_ID_CHARS = 64;
const MAX_CONVERSATION_ID_CHARS = 200;

/** X-Ray keeps at most 1000 characters of an annotation's value; `msgIds` holds as many whole ids as fit. */
const MAX_ANNOTATION_CHARS = 1000;

/**
 * The message ids a frame or stream record names: SEND's `msgId`, READ's `upToMsgId`, and the ids that
 * DELIVERED's `cursors` end with (a cursor is `serverTs#id`). Ids only, never contents.
 */
export function messageIdsOf(value: unknown): MessageIds {
  if (!value || typeof value !== 'object') return {};
  const { msgId, upToMsgId, msgIds, cursors, conversationId } = value as Record<string, unknown>;
  const one = typeof msgId === 'string' ? msgId : typeof upToMsgId === 'string' ? upToMsgId : undefined;
  const named = Array.isArray(cursors)
    ? cursors.filter((cursor): cursor is string => typeof cursor === 'string').map(idOfCursor)
    : Array.isArray(msgIds)
      ? msgIds.filter((id): id is string => typeof id === 'string')
      : [];
  const many = named.slice(0, MAX_ACKNOWLEDGED).filter((id) => id.length <= MAX_ID_CHARS);
  return {
    ...(one && one.length <= MAX_ID_CHARS ? { msgId: one } : many.length === 1 ? { msgId: many[0] } : {}),
    ...(many.length > 1 ? { msgIds: many } : {}),
    ...(typeof conversationId === 'string' && conversationId.length <= MAX_CONVERSATION_ID_CHARS ? { conversationId } : {}),
  };
}

/** X-Ray annotations of `ids`, ready for `addAnnotation`. */
export function annotationsOf(ids: MessageIds): Record<string, string> {
  const annotations: Record<string, string> = {};
  if (ids.msgId) annotations.msgId = ids.msgId;
  if (ids.conversationId) annotations.conversationId = ids.conversationId.slice(0, MAX_ANNOTATION_CHARS);
  if (ids.msgIds?.length) {
    let joined = '';
    for (const id of ids.msgIds) {
      const next = joined ? `${joined},${id}` : id;
      if (next.length > MAX_ANNOTATION_CHARS) break;
      joined = next;
    }
    annotations.msgIds = joined;
  }
  return annotations;
}

function annotate(segment: Segment | Subsegment, ids: MessageIds): void {
  for (const [key, value] of Object.entries(annotationsOf(ids))) segment.addAnnotation(key, value);
}

/** Annotates the function's current subsegment (its `## handler` one) with the ids of the message it handles. */
export function annotateMessage(tracer: Tracer | undefined, ids: MessageIds): void {
  if (!tracer?.isTracingEnabled()) return;
  const segment = tracer.getSegment();
  if (segment && !isFacade(segment)) annotate(segment, ids);
}

/** Lambda's own segment of an invocation, which takes no data: the SDK ignores writes to it. */
const isFacade = (segment: Segment | Subsegment) => (segment as Segment & { facade?: boolean }).facade === true;

/**
 * The header that continues the current trace, as X-Ray writes it in `X-Amzn-Trace-Id`:
 * `Root=<trace id>;Parent=<current (sub)segment id>;Sampled=<0|1>` (with active tracing alone, the parent
 * is Lambda's segment of the invocation); none without tracing.
 */
export function traceHeaderOf(tracing: Tracing | undefined): string | undefined {
  const { tracer, lambdaTrace } = tracing ?? {};
  if (lambdaTrace) {
    const header = parseTraceHeader(lambdaTrace.header());
    return header && `Root=${header.root};Parent=${header.parent};Sampled=${header.sampled ? 1 : 0}`;
  }
  if (!tracer?.isTracingEnabled()) return undefined;
  const segment = tracer.getSegment();
  const root = tracer.getRootXrayTraceId();
  if (!segment || !root) return undefined;
  return `Root=${root};Parent=${segment.id};Sampled=${tracer.isTraceSampled() ? 1 : 0}`;
}

/** The trace header a stream record carries, if any (read before the record is validated: even a poison record is traced). */
export function traceHeaderIn(record: unknown): string | undefined {
  const header = record && typeof record === 'object' ? (record as { traceHeader?: unknown }).traceHeader : undefined;
  return typeof header === 'string' ? header : undefined;
}

export interface TraceHeader {
  readonly root: string;
  readonly parent: string;
  readonly sampled: boolean;
}

/** Reads a trace header; `undefined` for a missing or malformed one, which then simply starts no continuation. */
export function parseTraceHeader(header: string | undefined): TraceHeader | undefined {
  const fields = new Map((header ?? '').split(';').map((part) => part.trim().split('=', 2) as [string, string]));
  const root = fields.get('Root');
  const parent = fields.get('Parent');
  if (!root || !/^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(root) || !parent || !/^[0-9a-f]{16}$/.test(parent)) return undefined;
  return { root, parent, sampled: fields.get('Sampled') === '1' };
}

let SegmentClass: typeof Segment | undefined;

/** A stream record as traced: the consuming function's name, the header it carries, the ids it names. */
export interface TracedRecord {
  readonly functionName: string;
  readonly traceHeader?: string;
  readonly ids: MessageIds;
}

/**
 * Runs `work` for one stream record: in a subsegment of the batch's trace (annotated with the record's ids
 * and the trace it came from), and, when the record carries a sampled trace header, in a segment of the
 * sender's trace too, named for this function, so the message's one trace shows its fanout. The record's
 * AWS calls stay in the batch's trace: records run side by side, and X-Ray has one current segment per
 * invocation. With active tracing alone, only the segment in the sender's trace.
 */
export async function traceStreamRecord<T>(tracing: Tracing | undefined, record: TracedRecord, work: () => Promise<T>): Promise<T> {
  const { tracer, lambdaTrace } = tracing ?? {};
  if (lambdaTrace) return continueTrace(lambdaTrace, record, work);
  if (!tracer?.isTracingEnabled()) return work();
  const parent = tracer.getSegment();
  if (!parent) return work();
  const header = parseTraceHeader(record.traceHeader);
  const inBatch = parent.addNewSubsegment('### stream record');
  annotate(inBatch, record.ids);
  if (header) inBatch.addAnnotation('sendTraceId', header.root);
  let continued: Segment | undefined;
  if (header?.sampled) {
    SegmentClass ??= xraySdk().Segment;
    continued = new SegmentClass(record.functionName, header.root, header.parent);
    continued.origin = 'AWS::Lambda::Function';
    annotate(continued, record.ids);
    continued.addAnnotation('batchTraceId', tracer.getRootXrayTraceId() ?? '');
  }
  try {
    return await work();
  } catch (error) {
    inBatch.addError(error as Error);
    continued?.addError(error as Error);
    throw error;
  } finally {
    inBatch.close();
    // Closing a segment of our own sends it to the X-Ray daemon; Lambda's daemon takes any trace's segments.
    continued?.close();
  }
}

/** The X-Ray SDK, which only a bundle built with `parley:tracing` = `subsegments` holds (lib/functions.ts). */
function xraySdk(): typeof import('aws-xray-sdk-core') {
  // The bundle's `define` makes the condition a constant, and esbuild then leaves the `require` out.
  if (!process.env.PARLEY_BUNDLE_WITHOUT_XRAY_SDK) return require('aws-xray-sdk-core') as typeof import('aws-xray-sdk-core');
  throw new Error('This bundle has no X-Ray SDK: parley:tracing is active');
}

/**
 * The sender's trace continued without the SDK: when the record's header is sampled, a segment of that
 * trace named for this function, from the record's start to its end, annotated as the SDK's would be and
 * marked a fault if `work` fails, sent to the daemon once `work` is done.
 */
async function continueTrace<T>(lambdaTrace: LambdaTrace, record: TracedRecord, work: () => Promise<T>): Promise<T> {
  const header = parseTraceHeader(record.traceHeader);
  if (!header?.sampled) return work();
  const start = Date.now() / 1000;
  const batch = parseTraceHeader(lambdaTrace.header());
  const segment = {
    name: record.functionName,
    id: newSegmentId(),
    trace_id: header.root,
    parent_id: header.parent,
    origin: 'AWS::Lambda::Function',
    annotations: { ...annotationsOf(record.ids), batchTraceId: batch?.root ?? '' },
  };
  try {
    const result = await work();
    lambdaTrace.send({ ...segment, start_time: start, end_time: Date.now() / 1000 });
    return result;
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    const cause = { exceptions: [{ id: newSegmentId(), message, type: name }] };
    lambdaTrace.send({ ...segment, start_time: start, end_time: Date.now() / 1000, fault: true, cause });
    throw error;
  }
}
