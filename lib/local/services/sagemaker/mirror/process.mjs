// A shadow variant's mirror process (see host.ts). Plain JavaScript because it is started with
// plain node: tsx's tsImport loads the TypeScript mirror.
import { tsImport } from 'tsx/esm/api';

// Messages that arrive while the mirror module loads are kept, in order.
const queued = [];
const keep = (m) => queued.push(m);
process.on('message', keep);
// The IPC channel closes when the endpoint host stops the shadow (its fleet stops) or ends, even
// by kill -9: nothing is left to mirror for. As the capture process, it ignores Ctrl-C, which
// reaches the whole process group: the host's graceful stop flushes it first.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
const { runMirror } = await tsImport('./child.ts', import.meta.url);
process.off('message', keep);
runMirror(queued);
