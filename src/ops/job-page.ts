import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { ArtifactLinks } from '../artifacts/links.js';
import { jobView, type JobData, type JobQueues } from '../jobs/queue.js';
import type { LogEntry, Origin } from '../jobs/types.js';
import { progressLines, stripAnsi } from '../render/slack.js';
import { escapeHtml, pageShell } from './html.js';
import { refuse, sendPage, type WebAuth } from './session.js';

export interface JobPageDeps {
  jobs: JobQueues;
  links: ArtifactLinks;
  auth: WebAuth;
  log: Logger;
}

const TERMINAL = new Set(['completed', 'failed']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Who asked, in words: names and places only (never a token, never Slack's response_url). */
export function describeOrigin(o: Origin | undefined): string {
  if (!o) return 'unknown';
  switch (o.door) {
    case 'api':
      return `API, token "${o.token}"${o.ip ? ` from ${o.ip}` : ''}`;
    case 'cli':
      return `CLI, token "${o.token}"${o.user ? `, user ${o.user}` : ''}`;
    case 'slack':
      return `Slack, user ${o.user} in channel ${o.channel} (team ${o.team})`;
    case 'github':
      return `GitHub, ${o.repo} at ${o.sha.slice(0, 12)} (delivery ${o.delivery})`;
    case 'schedule':
      return `schedule "${o.name}"`;
  }
}

/** What the page shows of a job: every string here is drawn as text, never as markup. */
export async function pageView(job: Job, links: ArtifactLinks) {
  const v = await jobView(job);
  const data = job.data as JobData;
  return {
    id: String(job.id),
    command: v.command,
    host: v.host,
    kind: v.kind,
    origin: describeOrigin(data.origin),
    state: v.state as string,
    done: TERMINAL.has(v.state),
    progress: progressLines(v.progress),
    exitCode: v.exitCode,
    error: v.error ?? null,
    stdout: stripAnsi(v.result?.stdout ?? ''),
    stderr: stripAnsi(v.result?.stderr ?? ''),
    truncated: v.result?.truncated ?? false,
    createdAt: v.createdAt,
    startedAt: v.startedAt,
    finishedAt: v.finishedAt,
    // Relative links: they work whatever address the page was opened at.
    files: (v.result?.artifacts ?? []).map((a) => {
      const l = links.sign(a.id);
      const u = new URL(l.url);
      return { name: a.name, size: a.size, sha256: a.sha256, href: `${u.pathname}${u.search}`, expiresAt: l.expiresAt };
    }),
  };
}
export type PageView = Awaited<ReturnType<typeof pageView>>;

/**
 * The job page, `/jobs/:id`: the job's command, origin, host, state, progress, live output,
 * result and files. It opens with a signed link (`?expires=…&sig=…`, what Slack messages carry)
 * or a login (session cookie, bearer token or Basic). `/jobs/:id/poll` is its long-poll feed.
 */
export function jobPageRouter(deps: JobPageDeps): Router {
  const r = express.Router();

  /** True when the request may see job `id`; otherwise the refusal is sent. */
  const allowed = (req: Request, res: Response, id: string): boolean => {
    if (deps.auth.who(req)) return true;
    if (req.query.sig !== undefined || req.query.expires !== undefined) {
      const check = deps.links.verifyJobPage(id, req.query.expires, req.query.sig);
      if (check.ok) return true;
      refuse(req, res, check.why === 'expired' ? 410 : 403, check.message);
      return false;
    }
    refuse(req, res, 401, 'Log in with an API token (one of DOCKOPS_API_TOKENS), or open the signed link a message gave you.');
    return false;
  };

  r.get('/jobs/:id', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!allowed(req, res, id)) return;
    try {
      const job = await deps.jobs.get(id);
      if (!job) {
        sendPage(res, 404, pageShell('dockops: no such job', `<h1>No job ${escapeHtml(id)}</h1><p>It may have expired (DOCKOPS_KEEP_JOBS keeps the latest finished jobs).</p>`));
        return;
      }
      const view = await pageView(job, deps.links);
      const { entries, next } = await deps.jobs.logs(id, 0);
      const nonce = randomBytes(16).toString('base64');
      sendPage(res, 200, renderJobPage(view, entries, next, nonce), nonce);
    } catch (err) {
      deps.log.error({ err, jobId: id }, 'job page failed');
      sendPage(res, 500, pageShell('dockops: error', '<h1>Internal error</h1><p>Logged on the server.</p>'));
    }
  });

  /** `?from=N&wait=S`: the output from entry N on, waiting up to S seconds (max 30) for more or the end. */
  r.get('/jobs/:id/poll', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!allowed(req, res, id)) return;
    res.set('cache-control', 'no-store');
    try {
      const from = Math.max(0, Number.parseInt(String(req.query.from ?? '0'), 10) || 0);
      const waitMs = Math.min(30, Math.max(0, Number(req.query.wait ?? 0) || 0)) * 1000;
      const deadline = Date.now() + waitMs;
      let closed = false;
      req.on('close', () => (closed = true));
      let pause = 20;
      let seen: string | undefined;
      for (;;) {
        const job = await deps.jobs.get(id);
        if (!job) {
          res.status(404).json({ error: 'not_found', message: `no job ${id} (it may have expired)` });
          return;
        }
        const state = await job.getState();
        const { entries, next } = await deps.jobs.logs(id, from);
        const done = TERMINAL.has(state);
        // Progress changes without output (layers, bytes, state): answer when it does, too.
        const now = JSON.stringify([state, job.progress]);
        seen ??= now;
        if (entries.length || done || closed || Date.now() >= deadline || now !== seen) {
          const fresh = done ? ((await deps.jobs.get(id)) ?? job) : job;
          res.json({ entries, next, view: await pageView(fresh, deps.links) });
          return;
        }
        await sleep(pause);
        pause = Math.min(pause * 2, 250);
      }
    } catch (err) {
      deps.log.error({ err, jobId: id }, 'job page poll failed');
      res.status(500).json({ error: 'internal', message: 'internal error (logged on the server)' });
    }
  });
  return r;
}

function human(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let x = n;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return `${i ? x.toFixed(1) : x} ${units[i]}`;
}

function renderEntries(entries: LogEntry[]): string {
  return entries.map((e) => `<span class="${e.s === 'stderr' ? 'stderr' : e.s === 'progress' ? 'progress' : 'stdout'}">${escapeHtml(stripAnsi(e.t))}</span>`).join('');
}

function renderFiles(files: PageView['files']): string {
  return files.map((f) => `<li><a href="${escapeHtml(f.href)}" download>${escapeHtml(f.name)}</a> (${escapeHtml(human(f.size))}, sha256 <code>${escapeHtml(f.sha256.slice(0, 12))}</code>, link valid until ${escapeHtml(f.expiresAt)})</li>`).join('');
}

/** The page as the server draws it; the script below keeps it current without a reload. */
export function renderJobPage(v: PageView, entries: LogEntry[], next: number, nonce: string): string {
  const hidden = (empty: boolean) => (empty ? ' hidden' : '');
  const body = `<h1>docker <code id="command">${escapeHtml(v.command)}</code></h1>
<dl>
<dt>Job</dt><dd><code id="job-id">${escapeHtml(v.id)}</code> (${escapeHtml(v.kind ?? '')})</dd>
<dt>Host</dt><dd id="host">${escapeHtml(v.host)}</dd>
<dt>Asked by</dt><dd id="origin">${escapeHtml(v.origin)}</dd>
<dt>State</dt><dd id="state" class="state-${escapeHtml(v.state)}">${escapeHtml(v.state)}</dd>
<dt>Exit code</dt><dd id="exit-code">${v.exitCode === null ? '—' : escapeHtml(String(v.exitCode))}</dd>
<dt>Queued</dt><dd id="created">${escapeHtml(v.createdAt)}</dd>
<dt>Started</dt><dd id="started">${escapeHtml(v.startedAt ?? '—')}</dd>
<dt>Finished</dt><dd id="finished">${escapeHtml(v.finishedAt ?? '—')}</dd>
</dl>
<section id="progress-section"${hidden(!v.progress.length || v.done)}><h2>Progress</h2><pre id="progress">${escapeHtml(v.progress.join('\n'))}</pre></section>
<h2>Output</h2>
<pre id="log">${renderEntries(entries)}</pre>
<p class="note" id="live"${hidden(v.done)}>Following the job as it runs…</p>
<section id="result"${hidden(!v.done)}><h2>Result</h2>
<p id="error" class="err"${hidden(!v.error)}>${escapeHtml(v.error ?? '')}</p>
<pre id="stdout"${hidden(!v.stdout)}>${escapeHtml(v.stdout)}</pre>
<pre id="stderr" class="stderr"${hidden(!v.stderr)}>${escapeHtml(v.stderr)}</pre>
<p class="note" id="truncated"${hidden(!v.truncated)}>The result was longer than DOCKOPS_RESULT_MAX_BYTES: the output above has all of it.</p>
</section>
<section id="files-section"${hidden(!v.files.length)}><h2>Files</h2><ul id="files">${renderFiles(v.files)}</ul></section>`;
  return pageShell(`dockops: docker ${v.command}`, body, { nonce, code: SCRIPT, data: { id: v.id, next, done: v.done } });
}

/** Long-polls /jobs/:id/poll and draws what comes with textContent only (output is hostile text). */
const SCRIPT = `(function () {
  'use strict';
  var init = JSON.parse(document.getElementById('data').textContent);
  var q = new URLSearchParams(location.search);
  var auth = q.has('sig') ? '&expires=' + encodeURIComponent(q.get('expires') || '') + '&sig=' + encodeURIComponent(q.get('sig') || '') : '';
  var next = init.next;
  var $ = function (id) { return document.getElementById(id); };
  var show = function (id, on) { $(id).hidden = !on; };
  var text = function (id, s) { $(id).textContent = s; };
  function human(n) { var u = ['B', 'kB', 'MB', 'GB', 'TB'], i = 0; while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; } return (i ? n.toFixed(1) : n) + ' ' + u[i]; }
  function strip(s) { return s.replace(/\\u001b\\[[0-9;?]*[ -\\/]*[@-~]/g, ''); }
  function append(entries) {
    var log = $('log');
    var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    entries.forEach(function (e) {
      var span = document.createElement('span');
      span.className = e.s === 'stderr' ? 'stderr' : e.s === 'progress' ? 'progress' : 'stdout';
      span.textContent = strip(String(e.t));
      log.appendChild(span);
    });
    if (atEnd) log.scrollTop = log.scrollHeight;
  }
  function draw(v) {
    var st = $('state'); st.textContent = v.state; st.className = 'state-' + v.state;
    text('exit-code', v.exitCode === null ? '\\u2014' : String(v.exitCode));
    text('started', v.startedAt || '\\u2014');
    text('finished', v.finishedAt || '\\u2014');
    text('progress', v.progress.join('\\n'));
    show('progress-section', v.progress.length > 0 && !v.done);
    show('live', !v.done);
    show('result', v.done);
    text('error', v.error || ''); show('error', !!v.error);
    text('stdout', v.stdout); show('stdout', !!v.stdout);
    text('stderr', v.stderr); show('stderr', !!v.stderr);
    show('truncated', v.truncated);
    var ul = $('files');
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    v.files.forEach(function (f) {
      if (typeof f.href !== 'string' || f.href.charAt(0) !== '/' || f.href.charAt(1) === '/') return;
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = f.href; a.setAttribute('download', ''); a.textContent = f.name;
      li.appendChild(a);
      li.appendChild(document.createTextNode(' (' + human(f.size) + ', sha256 ' + String(f.sha256).slice(0, 12) + ', link valid until ' + f.expiresAt + ')'));
      ul.appendChild(li);
    });
    show('files-section', v.files.length > 0);
  }
  function poll() {
    fetch('/jobs/' + encodeURIComponent(init.id) + '/poll?from=' + next + '&wait=20' + auth, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (body) {
        append(body.entries);
        next = body.next;
        draw(body.view);
        if (!body.view.done) poll();
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  if (!init.done) poll();
})();`;
