// The local cloud's watchdog (see children.ts), a child of `mlship up` with a stdin pipe from it.
// The cloud writes `+<pgid>` when it starts a process group (a build phase, a model server) and
// `-<pgid>` when the group's leader has exited. When stdin ends the cloud is gone: after its
// close() nothing is listed any more, after a `kill -9` every group still listed is killed here,
// so no build script or model server outlives the cloud that started it. Plain JavaScript
// without dependencies: it must start fast and hold nothing.
const groups = new Set();
let partial = '';
const kill = (pgid, signal) => {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group has gone
  }
};
const alive = (pgid) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};
process.stdin.on('data', (chunk) => {
  const lines = (partial + chunk.toString('utf8')).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (line[0] === '+') groups.add(pgid);
    else if (line[0] === '-') groups.delete(pgid);
  }
});
let ending = false;
const end = () => {
  if (ending) return;
  ending = true;
  // SIGTERM first so a model server can close its sockets; SIGKILL what is left after a grace.
  for (const g of groups) kill(g, 'SIGTERM');
  const deadline = Date.now() + 2000;
  const check = () => {
    const left = [...groups].filter(alive);
    if (left.length === 0) process.exit(0);
    if (Date.now() >= deadline) {
      for (const g of left) kill(g, 'SIGKILL');
      process.exit(0);
    }
    setTimeout(check, 50);
  };
  check();
};
process.stdin.on('end', end);
process.stdin.on('close', end);
process.stdin.on('error', end);
// A terminal's Ctrl-C reaches this process with `mlship up`, whose graceful stop still needs the
// groups listed here to be stopped in order; only the end of stdin ends the watchdog.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.stdout.write('ready\n');
