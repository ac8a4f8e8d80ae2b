#!/usr/bin/env node
// The mlship command: the TypeScript CLI (mlship.ts) run in this one process, with tsx's
// loader registered here, rather than under the `tsx` command. The `tsx` command is a second
// process that relays each signal to its child and waits 30 ms for the child to acknowledge
// it; the acknowledgement is lost when it arrives before the relay starts waiting, and then
// tsx sends the signal again, kills the child with SIGKILL if that is not acknowledged within
// another 30 ms, and exits 130. A Ctrl-C of `mlship up` then ended in exit 130 after a
// graceful stop, or cut the stop short. In one process, the signal reaches mlship directly.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

registerCjs();
register();
await import('./mlship.ts');
