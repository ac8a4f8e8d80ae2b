/**
 * The console's HTTP server (fastify on 127.0.0.1): authentication, security headers and the
 * routes. Pages are rendered by ./pages; data comes from ConsoleData; decisions go through
 * ./approvals (the decide module).
 */
import { readFile } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { decide, InvalidApprovalIdError, parseApprovalId, type DecisionOutcome } from './approvals';
import type { ConsoleData } from './data';
import { buildFeed } from './feed';
import { esc, html, layout, type Html } from './html';
import { approvalPage } from './pages/approval';
import { approvalsPage, driftPage, feedPage, modelPage, modelsPage, releasesPage } from './pages/overview';
import { releasePage } from './pages/release';
import { readModelTrends } from './model-trends';
import { modelTraffic } from './traffic';
import { readWeeklyReport, weeklyReportDates } from './weekly';
import { weeklyListPage, weeklyPage } from './pages/weekly';
import { foreignHost, loopbackOrigins, sameOriginRequest } from '../loopback';
import { artifactHeaders, ConsoleAuth, newNonce, pageHeaders, sessionCookieName } from './security';

declare module 'fastify' {
  interface FastifyRequest {
    sessionId?: string;
    viaBearer?: boolean;
    nonce: string;
  }
}

export interface ServerOptions {
  data: ConsoleData;
  auth: ConsoleAuth;
  /** The identity decisions are recorded under. */
  approver: string;
  /** Called with a message when a response body contained a task token (it was scrubbed). */
  onLeak?: (message: string) => void;
}

/** Prefixes the artifact route may serve; never approvals/ (task tokens) or source/. */
const ARTIFACT_PREFIXES = ['reports/', 'monitoring/', 'builds/', 'registry/', 'checks/'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9._:-]+$/;
/** Where the local CodeBuild writes build logs: `<dataDir>/codebuild/logs/<project>/<uuid>.log`. */
const LOCAL_BUILD_LOG = /\/codebuild\/logs\/[A-Za-z0-9._-]+\/[A-Za-z0-9-]+\.log$/;

/** A local build log, only when the file URL has the local CodeBuild's log layout. */
async function readLocalBuildLog(link: string): Promise<string | undefined> {
  let path: string;
  try {
    path = fileURLToPath(link);
  } catch {
    return undefined;
  }
  if (!LOCAL_BUILD_LOG.test(path.split(sep).join('/'))) return undefined;
  try {
    const text = await readFile(path, 'utf8');
    // The last megabyte is what a reader of a failed build needs.
    return text.length > 1_000_000 ? `[… ${text.length - 1_000_000} characters cut …]\n${text.slice(-1_000_000)}` : text;
  } catch {
    return undefined;
  }
}

const OUTCOME_TEXT: Record<string, { tone: 'ok' | 'bad' | 'warn'; text: string }> = {
  approved: { tone: 'ok', text: 'Approved. The release continues to production.' },
  rejected: { tone: 'bad', text: 'Rejected. The release ends; production keeps serving its current version.' },
  refused: { tone: 'warn', text: 'Refused: this request was already decided or has expired, and cannot be decided again.' },
  'own-change': {
    tone: 'warn',
    text: 'Refused: you authored this change, and this model requires another person to decide (approval.separationOfDuties).',
  },
  'comment-required': { tone: 'bad', text: 'A rejection needs a comment that says why.' },
  invalid: { tone: 'bad', text: 'The decision was not accepted: the request is malformed.' },
};

/** What every route of one console server shares. */
interface ConsoleRoutes {
  app: FastifyInstance;
  o: ServerOptions;
  /** The console's own port, -1 before listen: no Host or Origin matches it, so nothing is answered yet. */
  ownPort: () => number;
  page: (req: FastifyRequest, reply: FastifyReply, title: string, body: Html, watch?: { url: string; fingerprint: string }) => FastifyReply;
  notFound: (req: FastifyRequest, reply: FastifyReply, message: string) => FastifyReply;
  /** Why a state-changing request is refused, or undefined when it may proceed. */
  csrfRefusal: (req: FastifyRequest, csrf: unknown) => string | undefined;
}

export function buildServer(o: ServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, trustProxy: false, bodyLimit: 64 * 1024 });
  void app.register(cookie);
  void app.register(formbody);
  app.decorateRequest('nonce', '');
  const routes = consoleRoutes(app, o);
  authenticateRequests(routes);
  guardResponses(routes);
  registerApprovalPages(routes);
  registerReleasePages(routes);
  registerModelPages(routes);
  registerApi(routes);
  return app;
}

function consoleRoutes(app: FastifyInstance, o: ServerOptions): ConsoleRoutes {
  const title = o.data.target.label;
  const ownPort = () => (app.server.address() as { port?: number } | null)?.port ?? -1;
  return {
    app,
    o,
    ownPort,
    page: (req, reply, t, body, watch) =>
      reply
        .type('text/html; charset=utf-8')
        .send(layout({ title: t, nonce: req.nonce, target: `${title} · approver ${o.approver}`, body, watch })),
    notFound: (req, reply, message) =>
      reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(layout({ title: 'Not found', nonce: req.nonce, target: title, body: html`<h1>Not found</h1><p>${message}</p>` })),
    csrfRefusal: (req, csrf) => {
      const origin = sameOriginRequest(req.headers, loopbackOrigins(ownPort()));
      if (!origin.ok) return `refused: ${origin.reason}`;
      if (req.viaBearer) return undefined;
      if (!req.sessionId || !o.auth.verifyCsrf(req.sessionId, csrf))
        return 'refused: missing or invalid CSRF token; reload the page and try again';
      return undefined;
    },
  };
}

/** Security headers on every answer, loopback Host only, and the access token, session cookie or bearer. */
function authenticateRequests({ app, o, ownPort }: ConsoleRoutes): void {
  const { auth } = o;
  const cookieName = () => sessionCookieName((app.server.address() as { port?: number } | null)?.port);
  const newSessionCookie = (reply: FastifyReply): string => {
    const value = auth.newSession();
    void reply.setCookie(cookieName(), value, { httpOnly: true, sameSite: 'strict', path: '/', secure: false });
    return auth.verifySession(value)!;
  };
  app.addHook('onRequest', async (req, reply) => {
    req.nonce = newNonce();
    void reply.headers(pageHeaders(req.nonce));
    // DNS rebinding: only loopback host names, on the console's own port, reach the console.
    const hostProblem = foreignHost(req.headers.host, ownPort());
    if (hostProblem) return deny(reply, 421, hostProblem);

    const query = req.query as Record<string, unknown>;
    if (query.token !== undefined) {
      if (!auth.checkToken(query.token)) return deny(reply, 401, 'invalid access token');
      req.sessionId = auth.verifySession(req.cookies[cookieName()]) ?? newSessionCookie(reply);
      if (req.method === 'GET') {
        // Take the token out of the address bar (and of history) once the cookie is set.
        const url = new URL(req.url, 'http://console');
        url.searchParams.delete('token');
        return reply.redirect(url.pathname + url.search, 303);
      }
      return;
    }
    req.sessionId = auth.verifySession(req.cookies[cookieName()]);
    req.viaBearer = auth.checkBearer(req.headers.authorization);
    if (!req.sessionId && !req.viaBearer)
      return deny(reply, 401, 'the console needs its access token: open the URL that `mlship console` printed');
  });
}

/** No task token leaves in a response body; errors answer as a page or as API JSON. */
function guardResponses({ app, o }: ConsoleRoutes): void {
  app.addHook('onSend', async (req, _reply, payload) => {
    if (typeof payload !== 'string') return payload;
    const { body, leaked } = o.data.guard.scrub(payload);
    if (leaked) o.onLeak?.(`a task token was scrubbed from the response to ${req.method} ${req.url.split('?')[0]}`);
    return body;
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    const status = err instanceof InvalidApprovalIdError ? 404 : err.statusCode && err.statusCode < 500 ? err.statusCode : 502;
    if (req.url.startsWith('/api/')) return reply.code(status).send({ error: err.name, message: err.message });
    return reply
      .code(status)
      .type('text/html')
      .send(
        layout({
          title: 'Error',
          nonce: req.nonce,
          target: o.data.target.label,
          body: html`<h1>Something went wrong</h1><div class="notice bad"><code>${err.name}</code>: ${err.message}</div>`,
        }),
      );
  });
}

function registerApprovalPages({ app, o, page, notFound, csrfRefusal }: ConsoleRoutes): void {
  const { data, auth } = o;
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());

  app.get('/', async (req, reply) => {
    const notes: string[] = [];
    const [models, pending] = await Promise.all([data.models(notes), data.approvals('pending')]);
    return page(req, reply, 'Models', modelsPage(models, pending, notes));
  });

  app.get('/approvals', async (req, reply) => page(req, reply, 'Approvals', approvalsPage(await data.approvals())));

  app.get<{ Params: { model: string; execution: string }; Querystring: { outcome?: string } }>(
    '/approvals/:model/:execution',
    async (req, reply) => {
      const id = `${req.params.model}/${req.params.execution}`;
      const approval = await data.approval(id);
      if (!approval) return notFound(req, reply, `No approval request ${id}.`);
      const reports = await data.reports(approval.model, approval.version, approval.reportLinks);
      const csrf = req.sessionId ? auth.csrfFor(req.sessionId) : '';
      const flash = req.query.outcome ? OUTCOME_TEXT[req.query.outcome] : undefined;
      const watchUrl = `/api/watch?approval=${encodeURIComponent(id)}${approval.executionArn ? `&arn=${encodeURIComponent(approval.executionArn)}` : ''}`;
      return page(
        req,
        reply,
        `Approval ${approval.model} ${approval.version}`,
        approvalPage({ approval, reports, csrf, approver: o.approver, flash }),
        {
          url: watchUrl,
          fingerprint: await data.watch(approval.executionArn, id).catch(() => ''),
        },
      );
    },
  );

  app.post<{ Params: { model: string; execution: string }; Body: Record<string, string> }>(
    '/approvals/:model/:execution/decision',
    async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const refusal = csrfRefusal(req, body.csrf);
      if (refusal) return deny(reply, 403, refusal);
      const id = `${req.params.model}/${req.params.execution}`;
      const decision = body.decision === 'approve' || body.decision === 'reject' ? body.decision : undefined;
      if (!decision) return deny(reply, 400, 'decision must be approve or reject');
      const outcome = await decide(data.deps, {
        id,
        decision,
        by: o.approver,
        comment: typeof body.comment === 'string' ? body.comment : undefined,
      });
      const code = outcomeCode(outcome, decision);
      if (!outcome.ok && outcome.kind === 'not-found') return notFound(req, reply, outcome.message);
      return reply.redirect(`/approvals/${id}?outcome=${code}`, 303);
    },
  );
}

function registerReleasePages({ app, o, page, notFound }: ConsoleRoutes): void {
  const { data } = o;
  app.get<{ Querystring: { arn?: string } }>('/releases', async (req, reply) => {
    const arn = req.query.arn;
    if (!arn) {
      const sm = await data.target.releaseStateMachineArn();
      return page(req, reply, 'Releases', releasesPage(await data.releases(), sm ? undefined : 'No release state machine found.'));
    }
    if (!EXECUTION_ARN.test(arn)) return notFound(req, reply, 'That is not an execution ARN.');
    const view = await data.release(arn);
    return page(req, reply, `Release ${view.execution.model ?? ''} ${view.execution.name}`, releasePage(view), {
      url: `/api/watch?arn=${encodeURIComponent(arn)}`,
      fingerprint: await data.watch(arn).catch(() => ''),
    });
  });

  app.get<{ Querystring: { arn?: string; state?: string } }>('/releases/log', async (req, reply) => {
    const { arn, state } = req.query;
    if (!arn || !EXECUTION_ARN.test(arn) || !state) return notFound(req, reply, 'No such log.');
    // The link is found again in the execution's own history: the request names no path.
    const link = (await data.release(arn)).graph?.states.find((s) => s.name === state)?.logLink;
    if (!link) return notFound(req, reply, `No log link in the output of ${state}.`);
    if (!link.startsWith('file://')) return reply.redirect(link, 303);
    const text = data.target.kind === 'local' ? await readLocalBuildLog(link) : undefined;
    if (text === undefined) return notFound(req, reply, 'The build log is not readable from here.');
    void reply.headers(artifactHeaders());
    return reply.type('text/plain; charset=utf-8').send(text);
  });
}

function registerModelPages({ app, o, page, notFound }: ConsoleRoutes): void {
  const { data } = o;
  app.get<{ Params: { model: string } }>('/models/:model', async (req, reply) => {
    const model = req.params.model;
    if (!NAME.test(model)) return notFound(req, reply, 'No such model.');
    const [production, versions, approvals, releases, driftRuns, history, checks] = await Promise.all([
      data.production(model),
      data.versions(model),
      data.approvals(),
      data.releases().catch(() => []),
      data.driftRuns(model),
      data.deploymentHistory(model),
      // A console without read access to checks/ still shows the rest.
      data.checks(model).catch(() => []),
    ]);
    const [trends, traffic] = await Promise.all([
      readModelTrends(
        data,
        model,
        releases.filter((r) => r.model === model),
        { params: data.target.kind === 'local' },
      ),
      modelTraffic(data.target, model),
    ]);
    return page(
      req,
      reply,
      model,
      modelPage({
        model,
        production,
        versions,
        approvals: approvals.filter((a) => a.model === model),
        releases: releases.filter((r) => r.model === model),
        driftRuns,
        history,
        trends,
        traffic,
        checks,
      }),
    );
  });

  app.get<{ Params: { model: string; run: string } }>('/models/:model/drift/:run', async (req, reply) => {
    const { model, run } = req.params;
    if (!NAME.test(model) || !NAME.test(run)) return notFound(req, reply, 'No such drift run.');
    const d = await data.driftRun(model, run);
    if (!d.keys.length) return notFound(req, reply, `No drift run ${model}/${run}.`);
    return page(req, reply, `Drift ${model} ${run}`, driftPage(model, run, d));
  });

  app.get('/notifications', async (req, reply) => page(req, reply, 'Notifications', feedPage(await buildFeed(data))));

  app.get('/weekly', async (req, reply) => page(req, reply, 'Weekly reports', weeklyListPage(await weeklyReportDates(data.store))));

  app.get<{ Params: { date: string } }>('/weekly/:date', async (req, reply) => {
    const report = await readWeeklyReport(data.store, req.params.date);
    if (!report) return notFound(req, reply, `No weekly report for ${req.params.date}.`);
    return page(req, reply, `Weekly report ${req.params.date}`, weeklyPage(report));
  });

  app.get<{ Params: { '*': string } }>('/artifacts/*', async (req, reply) => {
    const key = req.params['*'];
    if (!ARTIFACT_PREFIXES.some((p) => key.startsWith(p)) || key.split('/').some((s) => s === '..' || s === '.' || s === '')) {
      return notFound(req, reply, 'Not an artifact the console serves.');
    }
    const text = await data.store.text(key);
    if (text === undefined) return notFound(req, reply, `No object ${key}.`);
    void reply.headers(artifactHeaders());
    const type = key.endsWith('.html')
      ? 'text/html; charset=utf-8'
      : key.endsWith('.json')
        ? 'application/json; charset=utf-8'
        : 'text/plain; charset=utf-8';
    return reply.type(type).send(text);
  });
}

/** The JSON API, behind the same authentication as the pages. */
function registerApi({ app, o, csrfRefusal }: ConsoleRoutes): void {
  const { data } = o;
  app.get<{ Querystring: { status?: string } }>('/api/approvals', async (req) => {
    const status = req.query.status as 'pending' | 'approved' | 'rejected' | 'expired' | undefined;
    return { approvals: await data.approvals(status) };
  });

  app.get<{ Params: { model: string; execution: string } }>('/api/approvals/:model/:execution', async (req, reply) => {
    const approval = await data.approval(`${req.params.model}/${req.params.execution}`);
    return approval ? { approval } : reply.code(404).send({ error: 'NotFound', message: 'no such approval request' });
  });

  app.post<{ Params: { model: string; execution: string } }>('/api/approvals/:model/:execution/decision', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const refusal = csrfRefusal(req, req.headers['x-csrf-token']);
    if (refusal) return reply.code(403).send({ error: 'Forbidden', message: refusal });
    const decision = body.decision === 'approve' || body.decision === 'reject' ? body.decision : undefined;
    if (!decision) return reply.code(400).send({ error: 'BadRequest', message: 'decision must be approve or reject' });
    const id = `${req.params.model}/${req.params.execution}`;
    const outcome = await decide(data.deps, {
      id,
      decision,
      by: o.approver,
      comment: typeof body.comment === 'string' ? body.comment : undefined,
    });
    if (outcome.ok) return { ok: true, repeated: outcome.repeated === true, approval: outcome.approval };
    const status = outcome.kind === 'refused' ? 409 : outcome.kind === 'not-found' ? 404 : 400;
    return reply.code(status).send({ ok: false, error: outcome.kind, message: outcome.message });
  });

  app.get<{ Querystring: { arn?: string; approval?: string } }>('/api/watch', async (req) => {
    const { arn, approval } = req.query;
    if (approval) parseApprovalId(approval);
    return { fingerprint: await data.watch(arn, approval) };
  });

  app.get('/api/models', async () => ({ models: await data.models() }));
  app.get('/api/notifications', async () => ({ notifications: await buildFeed(data) }));
}

function outcomeCode(outcome: DecisionOutcome, decision: 'approve' | 'reject'): keyof typeof OUTCOME_TEXT {
  if (outcome.ok) return decision === 'approve' ? 'approved' : 'rejected';
  if (outcome.reason === 'own-change' || outcome.reason === 'comment-required') return outcome.reason;
  return outcome.kind === 'refused' ? 'refused' : 'invalid';
}

function deny(reply: FastifyReply, code: number, message: string) {
  return reply
    .code(code)
    .type('text/plain; charset=utf-8')
    .send(`${code} ${esc(message)}\n`);
}
