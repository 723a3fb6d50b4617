import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, startService, type Service } from '../support/service.js';
import { standInSlack } from '../support/slack.js';
import { docker, uniqueName } from '../support/env.js';

/**
 * Schedules from jobs/*.yml in the real process: BullMQ job schedulers that run a volume backup every
 * second, reports to the schedule's Slack channel (the real @slack/web-api against a stand-in), a
 * failing schedule whose failures and missed-run alert reach the alert channel, pause/resume, and
 * SIGHUP applying an edited file without a restart.
 */
let svc: Service;
let slack: Awaited<ReturnType<typeof standInSlack>>;
const jobsDir = mkdtempSync(path.join(os.tmpdir(), 'dockops-jobs-'));
const backupDir = mkdtempSync(path.join(os.tmpdir(), 'dockops-sched-backups-'));
const vol = uniqueName('schedvol');
const d = docker();

function write(extra = '') {
  writeFileSync(
    path.join(jobsDir, 'schedules.yml'),
    `schedules:
  - name: nightly-db
    schedule: "*/1 * * * * *"
    command: volume backup ${vol} --compress gzip
    slack_channel: CBACKUPS
  - name: broken
    schedule: "*/1 * * * * *"
    command: volume backup no-such-volume-here
    alert_after: 2s
${extra}`,
  );
}

before(async () => {
  await d.createVolume({ Name: vol });
  write();
  slack = await standInSlack();
  svc = await startService({
    DOCKOPS_JOBS_DIR: jobsDir,
    DOCKOPS_BACKUP_TARGETS: `local=file://${backupDir}`,
    SLACK_SIGNING_SECRET: 'a-signing-secret-for-the-stand-in',
    SLACK_BOT_TOKEN: 'xoxb-test-token-for-the-stand-in',
    SLACK_API_URL: `${slack.url}/api/`,
    DOCKOPS_ALERT_CHANNEL: 'CALERTS',
    DOCKOPS_SCHEDULE_CHECK_MS: '300',
  });
});

after(async () => {
  await svc?.stop();
  await slack?.close();
  await d.getVolume(vol).remove({ force: true }).catch(() => undefined);
  rmSync(jobsDir, { recursive: true, force: true });
  rmSync(backupDir, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Submits through the API door and waits for the job's answer. */
async function run(command: string) {
  const posted = await api(svc, 'POST', '/api/jobs', { command });
  const id = (posted.body as { id: string }).id;
  assert.ok(id, JSON.stringify(posted.body));
  return until(`job ${id}`, async () => {
    const v = (await api(svc, 'GET', `/api/jobs/${encodeURIComponent(id)}`)).body as { state: string; result?: { exitCode: number; stdout: string } };
    return v.state === 'completed' || v.state === 'failed' ? v : undefined;
  });
}

const postsTo = (channel: string) => slack.posts.filter((p) => p.path === '/api/chat.postMessage' && p.body.channel === channel);

test('a schedule runs its backup on time and reports each run to its channel', async () => {
  const report = await until('a report in CBACKUPS', () => postsTo('CBACKUPS')[0]);
  assert.match(report.body.text, new RegExp(`^schedule nightly-db: .*volume backup ${vol} --compress gzip`));
  assert.match(JSON.stringify(report.body.blocks), new RegExp(`${vol}: \\d+ entries, .* \\(gzip\\) in .* to local:${vol}/`));
  const files = await until('a backup on disk', () => {
    try {
      return readdirSync(path.join(backupDir, vol)).filter((f) => f.endsWith('.json')).length ? readdirSync(path.join(backupDir, vol)) : undefined;
    } catch {
      return undefined;
    }
  });
  assert.ok(files.some((f) => f.endsWith('.tar.gz')));
});

test('a failing schedule reports to the alert channel and raises one missed-run alert', async () => {
  const failure = await until('a failure report in CALERTS', () => postsTo('CALERTS').find((p) => /^schedule broken:/.test(p.body.text)));
  assert.match(JSON.stringify(failure.body.blocks), /No such volume: no-such-volume-here/);
  const alert = await until('a missed-run alert', () => postsTo('CALERTS').find((p) => /:rotating_light: schedule broken/.test(p.body.text)));
  assert.match(alert.body.text, /has not succeeded within 2 seconds: no success since it was set up; last run \S+ exited 1/);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(postsTo('CALERTS').filter((p) => /:rotating_light:/.test(p.body.text)).length, 1, 'one alert per outage');
});

test('schedule ls, pause and resume; SIGHUP applies an edited file', async () => {
  const ls = await run('schedule ls');
  assert.equal(ls.result?.exitCode, 0);
  const out = ls.result?.stdout ?? '';
  assert.match(out, /^NAME\s+SCHEDULE\s+HOST\s+STATE\s+LAST RUN\s+LAST SUCCESS\s+NEXT RUN\s+COMMAND\n/);
  assert.match(out, new RegExp(`nightly-db\\s+\\*/1 \\* \\* \\* \\* \\*\\s+local\\s+active\\s+.* ago \\(exit 0\\)\\s+.* ago\\s+\\S+Z\\s+volume backup ${vol} --compress gzip`));
  assert.equal((await run('schedule pause broken')).result?.exitCode, 0);
  const paused = (await run('schedule ls')).result?.stdout ?? '';
  assert.match(paused, /broken\s+\S+ \S+ \S+ \S+ \S+ \S+\s+local\s+paused\s+.*\s+-\s+volume backup/);
  const unknown = await run('schedule pause nope');
  assert.equal(unknown.result?.exitCode, 1);
  write(`  - name: added-later
    schedule: "0 4 * * *"
    tz: Europe/Berlin
    command: backup prune --dry-run
`);
  svc.proc.kill('SIGHUP');
  const after = await until('the new schedule', async () => {
    const o = (await run('schedule ls')).result?.stdout ?? '';
    return /added-later/.test(o) ? o : undefined;
  });
  assert.match(after, /added-later\s+0 4 \* \* \* \(Europe\/Berlin\)\s+local\s+active\s+never\s+never\s+\S+T0[23]:00:00Z\s+backup prune --dry-run/);
  assert.equal((await run('schedule resume broken')).result?.exitCode, 0);
  // A mistake in the file is refused and changes nothing.
  writeFileSync(path.join(jobsDir, 'bad.yml'), 'schedules:\n  - name: bad\n    schedule: "not cron"\n    command: ps\n');
  const reload = await run('schedule reload');
  assert.equal(reload.result?.exitCode, 1, JSON.stringify(reload));
  rmSync(path.join(jobsDir, 'bad.yml'));
});
