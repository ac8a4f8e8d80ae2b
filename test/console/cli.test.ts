import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { register as registerApprovals } from '../../lib/cli/commands/approvals';
import { register as registerReject } from '../../lib/cli/commands/reject';
import { EXIT } from '../../lib/console/cli';
import { runDecision } from '../../lib/console/cli-decide';
import { decisionRouteFetch, EXEC_NAME, FakeBucket, installSfn, seedPending, TASK_TOKEN } from './fakes';

const ID = `delivery-time/${EXEC_NAME}`;
const LOCAL = { endpoint: 'http://127.0.0.1:4566' };

describe('Function: runDecision (mlship approve / reject)', () => {
  let bucket: FakeBucket;
  let s3mock: ReturnType<FakeBucket['install']>;
  let sfnmock: ReturnType<typeof installSfn>;
  let stdout: string[];
  let stderr: string[];

  beforeEach(() => {
    bucket = new FakeBucket();
    s3mock = bucket.install();
    sfnmock = installSfn();
    seedPending(bucket);
    // The CLI posts to the local cloud's decision route; here the real function answers it.
    vi.stubGlobal('fetch', decisionRouteFetch());
    stdout = [];
    stderr = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (stdout.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
    s3mock.restore();
    sfnmock.restore();
  });

  it('approves: exit 0, SendTaskSuccess, recorded under --as, JSON without the token', async () => {
    // Act
    const code = await runDecision('approve', ID, { ...LOCAL, as: 'carol', comment: 'ship it', json: true });
    // Assess
    expect(code).toBe(EXIT.ok);
    expect(sfnmock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN });
    const out = JSON.parse(stdout.join(''));
    expect(out).toMatchObject({ ok: true, id: ID, decision: 'approved', by: 'carol', comment: 'ship it' });
    expect(stdout.join('')).not.toContain(TASK_TOKEN);
    expect(bucket.json(`approvals/${ID}.json`)).toMatchObject({ status: 'approved', decision: { by: 'carol' } });
  });

  it('refuses a second decision with exit 1', async () => {
    // Prepare
    await runDecision('approve', ID, { ...LOCAL, as: 'carol' });
    sfnmock.resetHistory();
    // Act
    const code = await runDecision('reject', ID, { ...LOCAL, as: 'dave', comment: 'no' });
    // Assess
    expect(code).toBe(EXIT.refused);
    expect(stderr.join('')).toContain('already approved by carol');
    expect(sfnmock).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('refuses an expired request with exit 1', async () => {
    // Prepare
    seedPending(bucket, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    // Act
    const code = await runDecision('approve', ID, { ...LOCAL, as: 'carol' });
    // Assess
    expect(code).toBe(EXIT.refused);
    expect(sfnmock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it.each([
    ['an unknown id', 'delivery-time/nope', {}],
    ['an id that is not one', '../etc/passwd', {}],
    ['a rejection without comment', ID, { comment: ' ' }],
    ['--aws with --endpoint', ID, { aws: true, comment: 'x' }],
  ])('answers exit 2 to %s', async (_what, id, extra) => {
    // Act
    const code = await runDecision('reject', id, { ...LOCAL, as: 'carol', comment: 'why', ...extra });
    // Assess
    expect(code).toBe(EXIT.usage);
    expect(sfnmock).not.toHaveReceivedCommand(SendTaskFailureCommand);
    expect(bucket.json(`approvals/${ID}.json`)!.status).toBe('pending');
  });

  it('rejects with a comment: exit 0 and SendTaskFailure ApprovalRejectedError', async () => {
    // Act
    const code = await runDecision('reject', ID, { ...LOCAL, as: 'carol', comment: 'drift in the training data' });
    // Assess
    expect(code).toBe(EXIT.ok);
    expect(sfnmock).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TASK_TOKEN, error: 'ApprovalRejectedError' });
    expect(stdout.join('')).toContain('Rejected delivery-time abc1234-0001');
  });
});

describe('Command: mlship approvals / reject (commander)', () => {
  let bucket: FakeBucket;
  let s3mock: ReturnType<FakeBucket['install']>;
  let stdout: string[];

  beforeEach(() => {
    bucket = new FakeBucket();
    s3mock = bucket.install();
    seedPending(bucket);
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (stdout.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    process.exitCode = undefined;
  });

  afterEach(() => {
    vi.restoreAllMocks();
    s3mock.restore();
    process.exitCode = undefined;
  });

  it('lists pending requests as JSON without task tokens', async () => {
    // Prepare
    const program = new Command().exitOverride();
    registerApprovals(program);
    // Act
    await program.parseAsync(['node', 'mlship', 'approvals', '--json', '--endpoint', 'http://127.0.0.1:4566']);
    // Assess
    const list = JSON.parse(stdout.join(''));
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: ID, status: 'pending', version: 'abc1234-0001' });
    expect(stdout.join('')).not.toContain(TASK_TOKEN);
    expect(process.exitCode).toBe(0);
  });

  it('lists pending requests as a table with the quality report of each', async () => {
    // Prepare
    const program = new Command().exitOverride();
    registerApprovals(program);
    // Act
    await program.parseAsync(['node', 'mlship', 'approvals', '--endpoint', 'http://127.0.0.1:4566']);
    // Assess
    const [header, row] = stdout.join('').split('\n');
    expect(header).toMatch(/^ID\s+VERSION\s+STATUS\s+REQUESTED\s+EXPIRES\s+REPORT\s+DECISION$/);
    expect(row).toContain(`${ID}  abc1234-0001  pending`);
    expect(row).toContain('s3://mlship-artifacts/reports/delivery-time/abc1234-0001/quality-report.html');
    expect(process.exitCode).toBe(0);
  });

  it('exits 2 when reject is missing --comment', async () => {
    // Prepare
    const program = new Command();
    registerReject(program);
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    // Act
    const run = program.parseAsync(['node', 'mlship', 'reject', ID]);
    // Assess
    await expect(run).rejects.toThrow('exit 2');
    expect(exit).toHaveBeenCalledWith(2);
  });
});
