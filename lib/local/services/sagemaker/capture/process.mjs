// The data capture process (see writer.ts). Plain JavaScript because it is started with
// plain node: tsx's tsImport loads the TypeScript sink.
import { tsImport } from 'tsx/esm/api';

// Messages that arrive while the sink module loads are kept, in order.
const queued = [];
const keep = (m) => queued.push(m);
process.on('message', keep);
// The IPC channel closes when the proxy's process closes the writer or ends, even by kill -9:
// nothing is left to capture for. That is the only way out: Ctrl-C sends SIGINT to the whole
// process group, and the records buffered here must wait for the proxy's graceful stop, which
// flushes them before it closes the channel.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
const { runCaptureSink } = await tsImport('./sink.ts', import.meta.url);
process.off('message', keep);
runCaptureSink(queued);
