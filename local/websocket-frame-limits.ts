/**
 * API Gateway's limits on what a client may send over a WebSocket, checked on the raw frames.
 *
 * `ws` only knows a whole-message limit (`maxPayload`) and accepts binary messages; API Gateway also
 * refuses any single frame over 32 KB and any binary frame. So a {@link FrameInspector} reads the same
 * bytes `ws` reads (it listens on the socket before `ws` does) and reports the first breach, before
 * `ws` hands the offending message to a route.
 */

/** Limits on incoming frames. */
export interface FrameLimits {
  /** Largest payload of a single frame. */
  readonly frameBytes: number;
  /** Largest payload of a message, its fragments added up. */
  readonly messageBytes: number;
}

/** What the client did that API Gateway does not accept. */
export type FrameViolation =
  | { readonly kind: 'frameTooLarge'; readonly bytes: number }
  | { readonly kind: 'messageTooLarge'; readonly bytes: number }
  | { readonly kind: 'binaryFrame' };

const OPCODE_CONTINUATION = 0x0;
const OPCODE_BINARY = 0x2;
const FIRST_CONTROL_OPCODE = 0x8;
const MAX_HEADER_BYTES = 14;

/** Size of a frame header given its first bytes, or undefined while fewer than two have arrived. */
function headerSize(header: Buffer, filled: number): number | undefined {
  if (filled < 2) return undefined;
  const length7 = header[1]! & 0x7f;
  const masked = (header[1]! & 0x80) !== 0;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  return 2 + extended + (masked ? 4 : 0);
}

function payloadLength(header: Buffer): number {
  const length7 = header[1]! & 0x7f;
  if (length7 === 126) return header.readUInt16BE(2);
  if (length7 === 127) return Number(header.readBigUInt64BE(2));
  return length7;
}

/**
 * Follows the frame boundaries of a client's byte stream (RFC 6455 §5.2): reads each header, skips its
 * payload, and reports the first breach of the limits. After a breach it stops reading; the connection
 * is being closed.
 */
export class FrameInspector {
  private readonly header = Buffer.alloc(MAX_HEADER_BYTES);
  private headerFilled = 0;
  private payloadToSkip = 0;
  private messageBytes = 0;
  private violated = false;

  constructor(
    private readonly limits: FrameLimits,
    private readonly onViolation: (violation: FrameViolation) => void,
  ) {}

  /** Feeds the next bytes the client sent. */
  write(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.violated) {
      if (this.payloadToSkip > 0) {
        const skipped = Math.min(this.payloadToSkip, chunk.length - offset);
        this.payloadToSkip -= skipped;
        offset += skipped;
        continue;
      }
      // Headers are at most 14 bytes and may straddle chunks: gather them byte by byte.
      this.header[this.headerFilled++] = chunk[offset++]!;
      if (this.headerFilled === headerSize(this.header, this.headerFilled)) {
        this.headerFilled = 0;
        this.onFrame();
      }
    }
  }

  private onFrame(): void {
    const fin = (this.header[0]! & 0x80) !== 0;
    const opcode = this.header[0]! & 0x0f;
    const length = payloadLength(this.header);
    this.payloadToSkip = length;
    // Control frames (close, ping, pong) are at most 125 bytes and may sit between a message's fragments.
    if (opcode >= FIRST_CONTROL_OPCODE) return;
    if (opcode === OPCODE_BINARY) return this.fail({ kind: 'binaryFrame' });
    if (length > this.limits.frameBytes) return this.fail({ kind: 'frameTooLarge', bytes: length });
    this.messageBytes = (opcode === OPCODE_CONTINUATION ? this.messageBytes : 0) + length;
    if (this.messageBytes > this.limits.messageBytes) {
      return this.fail({ kind: 'messageTooLarge', bytes: this.messageBytes });
    }
    if (fin) this.messageBytes = 0;
  }

  private fail(violation: FrameViolation): void {
    this.violated = true;
    this.onViolation(violation);
  }
}
