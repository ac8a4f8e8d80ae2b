// The data capture thread (see capture-writer.ts). Plain JavaScript because a worker does not
// inherit tsx's loader on Node.js 20: tsx's tsImport loads the TypeScript sink instead.
import { parentPort, workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

// Batches that arrive while the sink module loads are kept, in order.
const queued = [];
const keep = (m) => queued.push(m);
parentPort.on('message', keep);
const { runCaptureSink } = await tsImport('./capture-sink.ts', import.meta.url);
parentPort.off('message', keep);
runCaptureSink(parentPort, workerData, queued);
