import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { CaptureSettings } from '../capture/format';
import { readFrame, type Frame, type FrameWriter } from '../capture/frame';

/**
 * What crosses between the endpoint host (host.ts) and a shadow variant's mirror process
 * (child.ts). Copies travel in the capture's frame (capture/frame.ts: one copy of their bytes
 * when added, one ArrayBuffer per hand-off, no per-record structured clone on the host's
 * event loop); outcomes come back as one Float64Array of (status, latency ms) pairs.
 */

/** One sampled request, as the shadow's model server is to receive it. */
export interface MirrorCopy {
  body: Uint8Array;
  contentType: string;
  accept?: string;
  customAttributes?: string;
  inferenceId?: string;
  /** Epoch ms at which production received it: the mirror sends it MirrorOptions.delayMs later. */
  time: number;
}

const NO_OUTPUT = new Uint8Array(0);

/**
 * A copy in a capture frame's record. The frame's fields carry: endpoint -> accept, variant ->
 * custom attributes (both "" when absent: an empty header is never sent), input content type
 * -> content type, input -> body; output and output content type stay empty.
 */
export function frameCopy(frame: FrameWriter, copy: MirrorCopy): void {
  const inv = {
    input: copy.body,
    inputContentType: copy.contentType,
    output: NO_OUTPUT,
    outputContentType: '',
    inferenceId: copy.inferenceId,
    time: copy.time,
  };
  const [accept, attrs] = [copy.accept ?? '', copy.customAttributes ?? ''];
  if (frame.wouldOverflow(accept, attrs, inv)) throw new Error('mirror frame: take() the frame before a copy that does not fit');
  frame.add(0, accept, attrs, inv);
}

/** True when `copy` does not fit what is left of the frame (take() it first). */
export function copyOverflows(frame: FrameWriter, copy: MirrorCopy): boolean {
  const inv = {
    input: copy.body,
    inputContentType: copy.contentType,
    output: NO_OUTPUT,
    outputContentType: '',
    inferenceId: copy.inferenceId,
    time: 0,
  };
  return frame.wouldOverflow(copy.accept ?? '', copy.customAttributes ?? '', inv);
}

/** The copies of a frame, in order; bodies are views into the frame. */
export function* readCopies(frame: Frame): Generator<MirrorCopy> {
  for (const r of readFrame(frame)) {
    yield {
      body: r.inv.input,
      contentType: r.inv.inputContentType,
      accept: r.endpoint || undefined,
      customAttributes: r.variant || undefined,
      inferenceId: r.inv.inferenceId,
      time: r.inv.time,
    };
  }
}

export interface MirrorOptions {
  endpoint: string;
  /** The shadow variant's name: its capture lines go under it. */
  variant: string;
  /** The shadow's model server on 127.0.0.1. */
  port: number;
  /** Copies to the shadow in flight at once; a copy due past this many is dropped and counted as a 503. */
  maxInFlight: number;
  /** How long after production received a request its copy is sent (the host's hand-off interval). */
  delayMs: number;
  /** The endpoint config's data capture, and the S3 client settings to write it with; absent when capture is off. */
  capture?: { settings: CaptureSettings; s3: S3ClientConfig; flushRecords: number; flushMs: number };
}

/** What the host sends the mirror process. */
export type ToMirror = { type: 'init'; options: MirrorOptions } | { type: 'batch'; frame: Frame } | { type: 'flush'; id: number };
/** What the mirror process answers: outcomes as (status, latency ms) pairs. */
export type FromMirror = { type: 'outcomes'; pairs: Float64Array } | { type: 'flushed'; id: number } | { type: 'error'; message: string };
