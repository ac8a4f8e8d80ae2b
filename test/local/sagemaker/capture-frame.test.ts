import { describe, expect, it } from 'vitest';
import { FrameWriter, readFrame, type FramedRecord } from '../../../lib/local/services/sagemaker/capture/frame';

const invocation = (input: string, extra: { inferenceId?: string; time?: number; type?: string } = {}) => ({
  // A view into a larger buffer, as the proxy's bodies are: only its own bytes are framed.
  input: Buffer.from(`xx${input}yy`).subarray(2, -2),
  inputContentType: extra.type ?? 'application/json',
  output: Buffer.from(`{"echo":${JSON.stringify(input)}}`),
  outputContentType: 'application/json',
  inferenceId: extra.inferenceId,
  time: extra.time ?? 1_795_000_000_123,
});

const plain = (r: FramedRecord) => ({
  ...r,
  inv: { ...r.inv, input: Buffer.from(r.inv.input).toString('utf8'), output: Buffer.from(r.inv.output).toString('utf8') },
});

describe('Class: FrameWriter', () => {
  it('reads back every record as added: settings, names, content types, inference id or none, bodies, time', () => {
    // Arrange
    const w = new FrameWriter();

    // Act
    w.add(0, 'ep-a', 'AllTraffic', invocation('{"x":1}', { inferenceId: 'id-1' }));
    w.add(3, 'ép-ü', 'Canary☃', invocation('a,b\n1,2', { type: 'text/csv; charset=utf-8', time: 5 }));
    w.add(1, 'ep-a', 'AllTraffic', invocation(''));
    const frame = w.take()!;

    // Assess
    expect(frame.count).toBe(3);
    expect([...readFrame(frame)].map(plain)).toEqual([
      {
        settings: 0,
        endpoint: 'ep-a',
        variant: 'AllTraffic',
        inv: {
          input: '{"x":1}',
          inputContentType: 'application/json',
          output: '{"echo":"{\\"x\\":1}"}',
          outputContentType: 'application/json',
          inferenceId: 'id-1',
          time: 1_795_000_000_123,
        },
      },
      {
        settings: 3,
        endpoint: 'ép-ü',
        variant: 'Canary☃',
        inv: {
          input: 'a,b\n1,2',
          inputContentType: 'text/csv; charset=utf-8',
          output: '{"echo":"a,b\\n1,2"}',
          outputContentType: 'application/json',
          inferenceId: undefined,
          time: 5,
        },
      },
      {
        settings: 1,
        endpoint: 'ep-a',
        variant: 'AllTraffic',
        inv: {
          input: '',
          inputContentType: 'application/json',
          output: '{"echo":""}',
          outputContentType: 'application/json',
          inferenceId: undefined,
          time: 1_795_000_000_123,
        },
      },
    ]);
  });

  it('takes nothing when empty, and starts a new frame after a take', () => {
    // Arrange
    const w = new FrameWriter();

    // Act
    const none = w.take();
    w.add(0, 'ep', 'v', invocation('1'));
    const first = w.take()!;
    w.add(0, 'ep', 'v', invocation('2'));
    const second = w.take()!;

    // Assess
    expect(none).toBeUndefined();
    expect([...readFrame(first)].map((r) => Buffer.from(r.inv.input).toString())).toEqual(['1']);
    expect([...readFrame(second)].map((r) => Buffer.from(r.inv.input).toString())).toEqual(['2']);
  });

  it('says a record would overflow a frame that holds records, and gives a large record a frame of its own', () => {
    // Arrange
    const w = new FrameWriter();
    const big = invocation('z'.repeat(2_000_000));
    w.add(0, 'ep', 'v', invocation('small'));

    // Act
    const overflow = w.wouldOverflow('ep', 'v', big);
    const small = w.take()!;
    const overflowWhenEmpty = w.wouldOverflow('ep', 'v', big);
    w.add(0, 'ep', 'v', big);
    const alone = w.take()!;

    // Assess
    expect(overflow).toBe(true);
    expect(small.count).toBe(1);
    expect(overflowWhenEmpty).toBe(false);
    expect([...readFrame(alone)][0]!.inv.input.length).toBe(2_000_000);
  });

  it('refuses to write past the end of a frame that holds records', () => {
    // Arrange
    const w = new FrameWriter();
    w.add(0, 'ep', 'v', invocation('small'));

    // Act / Assess
    expect(() => w.add(0, 'ep', 'v', invocation('z'.repeat(2_000_000)))).toThrow(/past the end of a frame/);
  });
});
