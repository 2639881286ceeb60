/**
 * One X-Ray trace per message. API Gateway's WebSocket and HTTP APIs start no trace, so a message's trace
 * begins in the function that accepts it (SEND, GROUP_SEND, DELIVERED, READ). That function writes its
 * trace header into the stream record; the stream consumer continues the trace from it, one segment per
 * record, and also records each record as a subsegment of its own batch's trace, linked by trace id. Every
 * one of these is annotated with the message's ids, so X-Ray's `annotation.msgId = "…"` finds them all.
 *
 * Everything here takes the tracer as a parameter and does nothing without one: the local runtime and tests
 * run without X-Ray (no tracer in their deps).
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Segment, Subsegment } from 'aws-xray-sdk-core';
import { MAX_ACKNOWLEDGED, idOfCursor } from '../protocol/frames';

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
 * `Root=<trace id>;Parent=<current (sub)segment id>;Sampled=<0|1>`; none without tracing.
 */
export function traceHeaderOf(tracer: Tracer | undefined): string | undefined {
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

/**
 * Runs `work` for one stream record: in a subsegment of the batch's trace (annotated with the record's ids
 * and the trace it came from), and, when the record carries a sampled trace header, in a segment of the
 * sender's trace too, named for this function, so the message's one trace shows its fanout. The record's
 * AWS calls stay in the batch's trace: records run side by side, and X-Ray has one current segment per
 * invocation.
 */
export async function traceStreamRecord<T>(
  tracer: Tracer | undefined,
  record: { readonly functionName: string; readonly traceHeader?: string; readonly ids: MessageIds },
  work: () => Promise<T>,
): Promise<T> {
  if (!tracer?.isTracingEnabled()) return work();
  const parent = tracer.getSegment();
  if (!parent) return work();
  const header = parseTraceHeader(record.traceHeader);
  const inBatch = parent.addNewSubsegment('### stream record');
  annotate(inBatch, record.ids);
  if (header) inBatch.addAnnotation('sendTraceId', header.root);
  let continued: Segment | undefined;
  if (header?.sampled) {
    SegmentClass ??= (require('aws-xray-sdk-core') as typeof import('aws-xray-sdk-core')).Segment;
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
