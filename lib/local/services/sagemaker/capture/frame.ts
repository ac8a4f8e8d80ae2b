import type { CapturedInvocation } from './format';

/**
 * Captured invocations packed into one ArrayBuffer, the form in which they cross from the
 * proxy to the capture process (writer.ts -> sink.ts).
 *
 * Why by hand: posting the invocations as objects made the edge's event loop structured-clone
 * every record at each hand-off, measured at 0.33 ms for 140 records (a 50 ms burst of
 * back-to-back invocations), and the invocation in flight waited for it. Framed, a record costs
 * a copy of its bytes when it is added, and the hand-off one copy of the frame's used bytes.
 * No library frames a few fields this cheaply; the layout is private to these two modules.
 *
 * Record layout, little-endian:
 *   u32 settings index | f64 time (epoch ms) | 7 fields, each u32 byte length + bytes:
 *   endpoint, variant, input content type, output content type, inference id, input, output.
 *   An absent inference id has length NONE.
 */
const NONE = 0xffff_ffff;
const FIXED = 4 + 8 + 7 * 4;
/**
 * A frame's size, unless one record needs more: a second of invocations at 1,000 a second with
 * small bodies (about 150 KB) fits, so a frame rarely fills before its hand-off.
 */
const MIN_FRAME_BYTES = 1024 * 1024;

/** One record read back from a frame; bodies are views into the frame, not copies. */
export interface FramedRecord {
  settings: number;
  endpoint: string;
  variant: string;
  inv: CapturedInvocation;
}

/** Invocations framed since the last take(): their bytes and how many they are. */
export interface Frame {
  buffer: ArrayBuffer;
  count: number;
}

export class FrameWriter {
  /** The frame being filled, as bytes and as a DataView over the same ArrayBuffer; empty until the first add(). */
  private bytes = Buffer.alloc(0);
  private view = new DataView(this.bytes.buffer, 0, 0);
  private offset = 0;
  private count = 0;

  /** Bytes a record may need: UTF-8 takes at most 3 bytes per UTF-16 code unit. */
  private static bound(endpoint: string, variant: string, inv: CapturedInvocation): number {
    const text =
      endpoint.length + variant.length + inv.inputContentType.length + inv.outputContentType.length + (inv.inferenceId?.length ?? 0);
    return FIXED + 3 * text + inv.input.byteLength + inv.output.byteLength;
  }

  /** True when the record does not fit what is left of the current frame (take() it first). */
  wouldOverflow(endpoint: string, variant: string, inv: CapturedInvocation): boolean {
    return this.count > 0 && this.offset + FrameWriter.bound(endpoint, variant, inv) > this.bytes.length;
  }

  add(settings: number, endpoint: string, variant: string, inv: CapturedInvocation): void {
    const need = FrameWriter.bound(endpoint, variant, inv);
    if (this.offset + need > this.bytes.length) this.grow(need);
    const view = this.view;
    view.setUint32(this.offset, settings, true);
    view.setFloat64(this.offset + 4, inv.time, true);
    this.offset += 12;
    this.text(endpoint);
    this.text(variant);
    this.text(inv.inputContentType);
    this.text(inv.outputContentType);
    if (inv.inferenceId === undefined) {
      view.setUint32(this.offset, NONE, true);
      this.offset += 4;
    } else {
      this.text(inv.inferenceId);
    }
    this.body(inv.input);
    this.body(inv.output);
    this.count++;
  }

  /**
   * A copy of the framed records, or undefined when there are none; the next add() starts a new
   * frame in the same buffer, unless one large record had grown it past the minimum.
   */
  take(): Frame | undefined {
    if (this.count === 0) return undefined;
    const frame = { buffer: (this.bytes.buffer as ArrayBuffer).slice(0, this.offset), count: this.count };
    if (this.bytes.length > MIN_FRAME_BYTES) {
      this.bytes = Buffer.alloc(0);
      this.view = new DataView(this.bytes.buffer, 0, 0);
    }
    this.offset = 0;
    this.count = 0;
    return frame;
  }

  /** Only an empty frame grows (see wouldOverflow): to the minimum or to the one record. */
  private grow(need: number): void {
    if (this.count > 0) throw new Error('capture frame: a record was added past the end of a frame that holds records');
    const buffer = new ArrayBuffer(Math.max(MIN_FRAME_BYTES, need));
    this.bytes = Buffer.from(buffer);
    this.view = new DataView(buffer);
    this.offset = 0;
  }

  private text(s: string): void {
    const n = this.bytes.write(s, this.offset + 4, 'utf8');
    this.view.setUint32(this.offset, n, true);
    this.offset += 4 + n;
  }

  private body(b: Uint8Array): void {
    this.view.setUint32(this.offset, b.byteLength, true);
    this.bytes.set(b, this.offset + 4);
    this.offset += 4 + b.byteLength;
  }
}

/** The records of a frame, in the order they were added. */
export function* readFrame(frame: Frame): Generator<FramedRecord> {
  const bytes = Buffer.from(frame.buffer);
  const view = new DataView(frame.buffer);
  let at = 0;
  const field = (): Buffer | undefined => {
    const n = view.getUint32(at, true);
    at += 4;
    if (n === NONE) return undefined;
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const text = () => field()!.toString('utf8');
  for (let i = 0; i < frame.count; i++) {
    const settings = view.getUint32(at, true);
    const time = view.getFloat64(at + 4, true);
    at += 12;
    const endpoint = text();
    const variant = text();
    const inputContentType = text();
    const outputContentType = text();
    const inferenceId = field()?.toString('utf8');
    const input = field()!;
    const output = field()!;
    yield { settings, endpoint, variant, inv: { input, inputContentType, output, outputContentType, inferenceId, time } };
  }
}
