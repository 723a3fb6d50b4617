import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeAgents, downloadTo, followDownload, requestJson, uploadFollow, uploadStream } from './http.js';
import { atomicTarget, extractCopy, openSource, planFiles, tarOf } from './files.js';
import { mkdtempSync, rmSync } from 'node:fs';

/** Where the CLI finds the API and its token: env first, then the file `npm start` writes. */
export function cliSettings(env: NodeJS.ProcessEnv = process.env) {
  const url = (env.DOCKOPS_API_URL ?? `http://127.0.0.1:${env.DOCKOPS_PORT ?? 8080}`).replace(/\/$/, '');
  let token = env.DOCKOPS_TOKEN;
  const file = env.DOCKOPS_TOKEN_FILE ?? path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'dockops', 'token');
  if (!token) {
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch {
      token = undefined;
    }
  }
  return { url, token, file };
}

interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * `dockops docker <args>`: submits the words through the API, follows the job's output as it
 * comes, prints what the docker CLI would print and returns the docker CLI's exit code.
 */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = process.env, io: Streams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { url, token, file } = cliSettings(env);
  const err = (s: string) => io.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  let host: string | undefined;
  const words = [...args];
  // `dockops docker --host b ps`: the API reads --host from the words too; taking it here keeps
  // the file planning (save -o, load -i, …) looking at the verb.
  if (words[0] === '--host' || words[0] === '-H') {
    host = words[1];
    words.splice(0, 2);
  } else if (words[0]?.startsWith('--host=')) {
    host = (words.shift() as string).slice('--host='.length);
  }
  if (!token) {
    err(`dockops: no API token: set DOCKOPS_TOKEN, or start the service with \`npm start\` (it writes ${file})`);
    return 1;
  }
  const ac = new AbortController();
  let jobId: string | undefined;
  let uploading: { done: Promise<{ state?: string; message?: string }>; abort(): void } | undefined;
  const onSigint = () => {
    ac.abort();
    if (jobId) {
      void requestJson('POST', `${url}/api/jobs/${jobId}/cancel`, token)
        .catch(() => undefined)
        .finally(() => process.exit(130));
    } else process.exit(130);
  };
  process.once('SIGINT', onSigint);
  let cid: CidFile | undefined;
  let stdinUpload: { abort(): void } | undefined;
  try {
    const plan = planFiles(words, { stdinIsTTY: Boolean(process.stdin.isTTY), stdoutIsTTY: io.stdout === process.stdout && Boolean(process.stdout.isTTY), cwd: process.cwd() });
    if (plan.error) {
      err(plan.error);
      return 1;
    }
    // --cidfile: docker's refusal when the file exists, before anything is sent; made now (as docker
    // does before it creates the container) and removed again if no container comes of the job.
    const isRun = (words[0] === 'container' ? words[1] : words[0]) === 'run';
    if (plan.cidfile) {
      const opened = await openCidFile(plan.cidfile, isRun);
      if ('error' in opened) {
        err(opened.error);
        return opened.exitCode;
      }
      cid = opened;
    }
    if (plan.build) {
      const { prepareBuildContext, packBuildContext } = await import('./build-context.js');
      const prepared = await prepareBuildContext(plan.build, process.cwd(), process.stdin);
      if ('error' in prepared) {
        err(prepared.error);
        return 1;
      }
      const up = await uploadStream(`${url}/api/artifacts?name=context.tar`, token, await packBuildContext(prepared));
      if (up.status !== 201) {
        err(up.body.message ?? `dockops: upload failed (${up.status})`);
        return 1;
      }
      plan.args[plan.build.index] = `artifact:${up.body.id}`;
      if (prepared.dockerfile !== undefined) {
        if (plan.build.file) plan.args[plan.build.file.index] = plan.build.file.prefix + prepared.dockerfile;
        else plan.args.splice(plan.build.index, 0, '--file', prepared.dockerfile);
      }
    }
    for (const f of plan.runFiles ?? []) {
      // Small files read whole by the worker: uploaded one after the other before the job is sent.
      const src = openSource(f.source);
      const opened = await whenOpen(src, f.given);
      if (opened) {
        // docker's words: `docker: open FILE: no such file or directory.` and its usage hint, exit 125.
        err(`docker: ${opened}.\nSee 'docker ${f.cmd} --help'.`);
        return 125;
      }
      const up = await uploadStream(artifactUrl(url, path.basename(f.source)), token, src);
      if (up.status !== 201) {
        err(up.body.message ?? `dockops: upload failed (${up.status})`);
        return 1;
      }
      plan.args[f.index] = `${f.prefix}artifact:${up.body.id}`;
    }
    if (plan.upload) {
      const tarred = plan.upload.tar;
      if (tarred) {
        const { existsSync } = await import('node:fs');
        if (!existsSync(plan.upload.source)) {
          err(`stat ${plan.upload.source}: no such file or directory`);
          return 1;
        }
      }
      const src = tarred ? tarOf(plan.upload.source, Boolean(plan.upload.followLinks)) : openSource(plan.upload.source);
      const opened = plan.upload.source === '-' || tarred ? undefined : await whenOpen(src, plan.upload.source);
      if (opened) {
        err(opened);
        return 1;
      }
      const name = plan.upload.source === '-' ? 'stdin.tar' : tarred ? `${path.basename(plan.upload.source)}.tar` : path.basename(plan.upload.source);
      const uploadUrl = artifactUrl(url, name);
      // load and import read their file once, front to back: the job starts while it is uploaded.
      const verb = words[0] === 'image' ? words[1] : words[0];
      if (verb === 'load' || verb === 'import') {
        const up = await uploadFollow(uploadUrl, token, src);
        if (up.status !== 201 || !up.first?.id) {
          err(up.first?.message ?? `dockops: upload failed (${up.status})`);
          return 1;
        }
        uploading = up;
        plan.args[plan.upload.index] = `${plan.upload.prefix}artifact:${up.first.id}`;
      } else {
        const up = await uploadStream(uploadUrl, token, src);
        if (up.status !== 201) {
          err(up.body.message ?? `dockops: upload failed (${up.status})`);
          return 1;
        }
        plan.args[plan.upload.index] = `${plan.upload.prefix}artifact:${up.body.id}`;
      }
    }
    if (plan.stdin) {
      // Followed by the worker while it arrives, as `load` reads its upload; the job starts at once.
      const up = await uploadFollow(`${url}/api/artifacts?name=stdin`, token, process.stdin);
      if (up.status !== 201 || !up.first?.id) {
        err(up.first?.message ?? `dockops: upload failed (${up.status})`);
        return 1;
      }
      stdinUpload = up;
      plan.args.splice(plan.stdin.index, 0, '--stdin-artifact', `artifact:${up.first.id}`);
    }
    const submit = await requestJson('POST', `${url}/api/jobs`, token, { args: plan.args, host, door: 'cli', user: env.USER });
    if (submit.status === 200 && typeof submit.body.help === 'string') {
      io.stdout.write(submit.body.help);
      return 0;
    }
    if (submit.status !== 202) {
      err(submit.body.message ?? `dockops: the API answered ${submit.status}`);
      return typeof submit.body.exitCode === 'number' ? submit.body.exitCode : 1;
    }
    jobId = submit.body.id as string;
    if (submit.body.warning) err(`dockops: ${submit.body.warning}`);
    // `save -o FILE` / `export -o FILE`: download beside the job, from the moment the file exists.
    const early = plan.download && plan.download !== '-' ? followDownload(url, token, jobId, plan.download, ac.signal) : undefined;
    let from = 0;
    for (;;) {
      // Until the container ID file is written, asked every second: docker writes it as soon as the container exists.
      const r = await requestJson('GET', `${url}/api/jobs/${jobId}/logs?from=${from}&wait=${cid && !cid.written ? 1 : 20}`, token, undefined, ac.signal);
      if (r.status !== 200) {
        err(r.body.message ?? `dockops: the API answered ${r.status}`);
        return 1;
      }
      if (cid && !cid.written && typeof r.body.progress?.container === 'string') await cid.write(r.body.progress.container);
      for (const e of r.body.entries as Array<{ s: string; t: string }>) {
        if (e.s === 'stdout') io.stdout.write(e.t);
        else if (e.s === 'stderr') io.stderr.write(e.t);
      }
      from = r.body.next;
      if (r.body.done) {
        const job = r.body.job;
        // The container is gone: what is left of stdin has nowhere to go (`yes | … run -i … head -1`).
        stdinUpload?.abort();
        stdinUpload = undefined;
        // The ID of the container the job made: in its result, or (a start that failed) in its progress.
        const made = job.result?.data?.id ?? job.progress?.container;
        if (cid && !cid.written && typeof made === 'string') await cid.write(made);
        if (job.state === 'failed' || job.result?.exitCode !== 0) await early?.settle(undefined);
        if (uploading) {
          // The job read the upload as it arrived; a failed upload is said, not hidden behind the job's error.
          if (job.state === 'failed' || job.result?.exitCode !== 0) uploading.abort();
          const last = await uploading.done;
          uploading = undefined;
          if (last?.state === 'failed') err(`dockops: upload failed: ${last.message}`);
        }
        if (job.state === 'failed') {
          err(`dockops: job ${jobId} failed: ${job.error}`);
          return typeof job.exitCode === 'number' && job.exitCode !== 0 ? job.exitCode : 1;
        }
        // stderr always arrives through the log; stdout that was not streamed comes with the result.
        const result = job.result;
        if (result.stdout) io.stdout.write(result.stdout);
        const artifact = result.artifacts?.[0];
        if (plan.extractTo && artifact && result.exitCode === 0) {
          const tmp = mkdtempSync(path.join(os.tmpdir(), 'dockops-cp-'));
          try {
            const target = await atomicTarget(path.join(tmp, 'copy.tar'));
            const status = await downloadTo(`${url}/api/artifacts/${artifact.id}`, token, target.stream);
            await target.commit();
            if (status !== 200) {
              err(`dockops: could not download ${artifact.name} (${status})`);
              return 1;
            }
            const problem = await extractCopy(path.join(tmp, 'copy.tar'), plan.extractTo);
            if (problem) {
              err(`Error: ${problem}`);
              return 1;
            }
          } finally {
            rmSync(tmp, { recursive: true, force: true });
          }
        } else if (plan.download && artifact && result.exitCode === 0 && (await early?.settle(artifact.sha256))) {
          // Downloaded while the job ran, and its sha256 is the artifact's.
        } else if (plan.download && artifact && result.exitCode === 0) {
          const target = await atomicTarget(plan.download);
          const status = await downloadTo(`${url}/api/artifacts/${artifact.id}`, token, target.stream);
          if (status !== 200) {
            await target.abort();
            err(`dockops: could not download ${artifact.name} (${status})`);
            return 1;
          }
          await target.commit();
        }
        return result.exitCode;
      }
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET') {
      err(`dockops: cannot reach the dockops API at ${url} (${code}); is it running? Start it with \`npm start\`, or set DOCKOPS_API_URL`);
      return 1;
    }
    throw e;
  } finally {
    stdinUpload?.abort();
    await cid?.close();
    uploading?.abort();
    process.removeListener('SIGINT', onSigint);
    closeAgents();
  }
}

/** Where to upload a local file: its name made safe for the store (`upload` when nothing is left). */
function artifactUrl(url: string, name: string): string {
  return `${url}/api/artifacts?name=${encodeURIComponent(name.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^[._+-]+/, '') || 'upload')}`;
}

/** Waits for a file stream to open: undefined, or why it could not, in the words docker uses (`open FILE: …`). */
function whenOpen(src: NodeJS.ReadableStream, given: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    src.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? `open ${given}: no such file or directory` : e.code === 'EISDIR' ? `read ${given}: is a directory` : e.message));
    (src as unknown as { once(ev: string, f: () => void): void }).once('open', () => resolve(undefined));
  });
}

interface CidFile {
  written: boolean;
  write(id: string): Promise<void>;
  /** Removes the file when no ID was written in it (docker's cidFile.Close). */
  close(): Promise<void>;
}

/**
 * docker's newCIDFile: refused when FILE exists; otherwise created (empty) at once. Its words and
 * exit codes: `create` prints them as they are (1); `run` as `docker: ….` with the help pointer,
 * 125, or 127 for "no such file or directory" (runStartContainerErr).
 */
async function openCidFile(f: { given: string; path: string }, isRun: boolean): Promise<CidFile | { error: string; exitCode: number }> {
  const { open, rm, stat } = await import('node:fs/promises');
  const refuse = (msg: string) =>
    isRun
      ? { error: `docker: ${msg}.\nSee 'docker run --help'.`, exitCode: /no such file or directory/.test(msg) ? 127 : /permission denied/.test(msg) ? 126 : 125 }
      : { error: msg, exitCode: 1 };
  if (await stat(f.path).then(() => true, () => false)) return refuse(`container ID file found, make sure the other container isn't running or delete ${f.given}`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // wx: made here or not at all (a file that appeared meanwhile is not truncated).
    handle = await open(f.path, 'wx', 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return refuse(`container ID file found, make sure the other container isn't running or delete ${f.given}`);
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    return refuse(`failed to create the container ID file: open ${f.given}: ${why}`);
  }
  const cid: CidFile = {
    written: false,
    async write(id: string) {
      if (cid.written || !/^[0-9a-f]{64}$/.test(id)) return;
      cid.written = true;
      await handle.writeFile(id);
      await handle.sync().catch(() => undefined);
    },
    async close() {
      await handle.close().catch(() => undefined);
      if (!cid.written) await rm(f.path, { force: true });
    },
  };
  return cid;
}
