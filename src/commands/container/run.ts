import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand } from '../define.js';
import { DockerError, UnavailableError, UsageError, daemonMessage, toDockerError } from '../../errors.js';
import { seeHelp, type FlagDef } from '../parse.js';
import { demux } from '../../docker/streams.js';
import { familiarString, parseRef, withDefaultTag } from '../../docker/refs.js';
import { pullImage } from '../image/pull.js';
import { CONTAINER_FLAGS, ContainerConfigSpec, containerConfig, createOptions } from './run-options.js';
import type { JobResult, RunContext } from '../../jobs/types.js';
import { CLOSED_POLICY, checkJoinedNamespaces, checkVolumesFrom } from '../../policy/index.js';
import { applyUploadedFiles } from './uploaded-files.js';

export { parseEnvFile, parseLabelFile } from './uploaded-files.js';

/** The flags `run` has and `create` has not. */
export const RUN_ONLY_FLAGS: FlagDef[] = [
  { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
  { name: 'detach-keys', type: 'string', valueName: 'string', help: 'Override the key sequence for detaching a container (accepted; no effect: dockops has no terminal to detach from)' },
  { name: 'sig-proxy', type: 'bool', default: true, help: 'Proxy received signals to the process (accepted; no effect: no terminal sends signals; cancel the job to kill the container)' },
  { name: 'stdin-artifact', type: 'string', valueName: 'string', hidden: true, help: "artifact:ID of the uploaded stdin for -i (set by the CLI door: `… | dockops docker run -i IMAGE`)" },
];

export const ContainerRunSpec = ContainerConfigSpec.extend({
  kind: z.literal('container.run'),
  detach: z.boolean(),
  /** -i/-t were given: said once on stderr, since there is no terminal to attach. */
  noTerminalNote: z.boolean(),
  /** -i with the CLI's stdin uploaded (an artifact followed while it arrives): copied into the container's STDIN, then closed. */
  stdin: z.string().regex(/^[0-9a-f]{24}$/).optional(),
});
export type ContainerRunSpec = z.infer<typeof ContainerRunSpec>;

/**
 * docker's exit codes for a container that could not start: 127 when the command is not found,
 * 126 when it cannot be invoked, 125 for anything else the engine refused.
 */
export function startExitCode(message: string): number {
  if (/executable file not found|no such file or directory|not found/.test(message)) return 127;
  if (/permission denied/.test(message)) return 126;
  return 125;
}

/** docker's reportError: "docker: <msg>." and, for usage-like failures, the pointer to help. */
function runError(message: string, exitCode: number, withHelp: boolean): DockerError {
  const text = `docker: ${message.replace(/\.$/, '')}.${withHelp ? "\nSee 'docker run --help'." : ''}`;
  return new DockerError(text, exitCode);
}

/**
 * POST /containers/create as dockerode does it, keeping the engine's Warnings ("Your kernel does
 * not support …", "… kernel memory limit is deprecated …"), which docker prints as `WARNING: …`.
 */
async function engineCreate(ctx: RunContext, opts: Record<string, unknown>): Promise<Docker.Container> {
  const modem = ctx.docker.modem as unknown as {
    dial(o: object, cb: (err: unknown, data: { Id: string; Warnings?: string[] | null }) => void): void;
  };
  // name and platform are query parameters; the rest is the body.
  const { platform, ...body } = opts;
  const query = Object.fromEntries(Object.entries({ name: opts.name, platform }).filter(([, v]) => v !== undefined));
  const data = await new Promise<{ Id: string; Warnings?: string[] | null }>((resolve, reject) => {
    modem.dial(
      {
        path: '/containers/create?',
        method: 'POST',
        options: { _query: query, _body: body },
        abortSignal: ctx.signal,
        statusCodes: { 200: true, 201: true, 400: 'bad parameter', 404: 'no such container', 406: 'impossible to attach', 500: 'server error' },
      },
      (err, d) => (err ? reject(err) : resolve(d)),
    );
  });
  for (const w of data.Warnings ?? []) ctx.output('stderr', `WARNING: ${w}\n`);
  return ctx.docker.getContainer(data.Id);
}

/** Creates the container, pulling the image first when it is missing (as `docker run` does). */
export async function createContainer(ctx: RunContext, c: ContainerConfigSpec, attach: boolean, cmdPath = 'run', stdin = false): Promise<Docker.Container> {
  if (c.volumesFrom.length) await checkVolumesFrom(ctx.docker, c.volumesFrom, ctx.policy ?? CLOSED_POLICY);
  await checkJoinedNamespaces(ctx.docker, { pid: c.extras?.PidMode, ipc: c.extras?.IpcMode }, ctx.policy ?? CLOSED_POLICY);
  const opts = createOptions(c, ctx.jobId, attach, stdin);
  await applyUploadedFiles(ctx, c, opts, cmdPath);
  const ref = familiarString(withDefaultTag(parseRef(c.image)));
  const pull = async () => {
    try {
      await pullImage(ctx, ref, { quiet: false, toStderr: true, platform: c.extras?.platform });
    } catch (err) {
      throw runError(daemonMessage(err).replace(/^Error response from daemon: /, 'Error response from daemon: '), 125, true);
    }
  };
  if (c.pull === 'always') await pull();
  try {
    return await engineCreate(ctx, opts);
  } catch (err) {
    const e = err as { statusCode?: number };
    if (e.statusCode === 404 && /No such image/i.test(daemonMessage(err)) && c.pull !== 'never') {
      ctx.output('stderr', `Unable to find image '${ref}' locally\n`);
      await pull();
      try {
        return await engineCreate(ctx, opts);
      } catch (err2) {
        throw runError(`Error response from daemon: ${daemonMessage(err2)}`, 125, true);
      }
    }
    if (cmdPath !== 'run') throw toDockerError(err);
    throw runError(`Error response from daemon: ${daemonMessage(err)}`, 125, true);
  }
}

async function removeQuietly(container: Docker.Container) {
  await container.remove({ force: true }).catch(() => undefined);
}

/**
 * A cancel that lands while the container is being created or started aborts our request, not
 * the engine's work: the container may exist all the same, never started, so --rm never fires.
 * Found by the job's label and removed (looked for twice: the engine may finish a moment later).
 */
async function removeCancelled(ctx: RunContext) {
  for (const pause of [0, 500]) {
    await new Promise((r) => setTimeout(r, pause));
    const found = await ctx.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`dockops.job-id=${ctx.jobId}`] }) } as {}).catch(() => []);
    for (const c of found) await removeQuietly(ctx.docker.getContainer(c.Id));
  }
}

/** Starts the container and maps a failure to docker's exit codes (126, 127, 125). */
async function start(ctx: RunContext, container: Docker.Container, rm: boolean) {
  try {
    await container.start({ abortSignal: ctx.signal } as {});
  } catch (err) {
    if (rm) await removeQuietly(container);
    const msg = `Error response from daemon: ${daemonMessage(err)}`;
    throw runError(msg, startExitCode(msg), false);
  }
}

type WaitAnswer = { StatusCode: number; Error?: { Message?: string } };

/**
 * POST /containers/{id}/wait, resolved in two steps: the outer promise when the engine has
 * answered with its headers (the wait is registered), the inner one with the exit status.
 */
async function waitRegistered(ctx: RunContext, container: Docker.Container, condition: string): Promise<{ done: Promise<WaitAnswer> }> {
  const modem = ctx.docker.modem as unknown as {
    dial(o: object, cb: (err: unknown, stream: NodeJS.ReadableStream) => void): void;
  };
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    modem.dial(
      {
        path: `/containers/${container.id}/wait?`,
        method: 'POST',
        options: { condition },
        isStream: true,
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
      },
      (err, s) => (err ? reject(toDockerError(err, 125)) : resolve(s)),
    );
  });
  const done = new Promise<WaitAnswer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WaitAnswer);
      } catch (err) {
        reject(err);
      }
    });
    stream.on('error', reject);
  });
  return { done };
}

/**
 * A daemon that shuts down (a restart) stops its containers: the wait still answers (137), but
 * the engine has already closed its socket to new requests. Then the job did not end by itself and
 * says so in docker's words, rather than as an exit code the command never chose.
 */
async function engineStayed(ctx: RunContext, exitCode: number): Promise<void> {
  const m = ctx.docker.modem as unknown as Docker.DockerOptions;
  // Loaded here: the CLI door reads this file and must start fast.
  const mod = m.protocol === 'https' ? await import('node:https') : await import('node:http');
  const answered = await new Promise<boolean>((resolve) => {
    // A new connection (agent: false): a kept-alive one is still served by an engine shutting down.
    const req = mod.request({ socketPath: m.socketPath, host: m.host, port: m.port, path: '/_ping', agent: false, ca: m.ca, cert: m.cert, key: m.key, timeout: 2000 } as object, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 2s')));
    req.on('error', () => resolve(false));
    req.end();
  });
  if (answered) return;
  ctx.log.warn({ exitCode }, 'the engine went away while the container ran');
  throw new UnavailableError(`Cannot connect to the Docker daemon of host "${ctx.host}": it stopped while the container ran (the container ended with exit code ${exitCode}). Is the docker daemon running?`);
}

async function runForeground(spec: ContainerRunSpec, ctx: RunContext, container: Docker.Container): Promise<JobResult> {
  // -a STDOUT/-a STDERR: only the streams named are shown (none for -a STDIN alone).
  const streams = spec.extras?.attach;
  const stdout = !streams || streams.includes('stdout');
  const stderr = !streams || streams.includes('stderr');
  const attach = (spec.stdin
    ? await container.attach({ stream: true, stdin: true, stdout, stderr, logs: false, hijack: true } as any)
    : stdout || stderr
      ? await container.attach({ stream: true, stdout, stderr, logs: false } as any)
      : new PassThrough().end()) as unknown as NodeJS.ReadableStream;
  // -i: the uploaded stdin, followed while it arrives, into the container's STDIN; then closed (StdinOnce).
  const feeding = spec.stdin ? feedStdin(ctx, spec.stdin, attach as unknown as NodeJS.WritableStream) : undefined;
  feeding?.catch(() => undefined);
  const ended = new Promise<void>((resolve) => {
    attach.on('end', resolve);
    attach.on('close', resolve);
    attach.on('error', () => resolve());
  });
  attach.on('data', demux((s, data) => ctx.output(s, data.toString('utf8'))));
  // Wait is registered with the engine before start, so a container that exits at once is not
  // missed ('next-exit' asked after the exit would wait forever).
  const { done: waited } = await waitRegistered(ctx, container, spec.rm ? 'removed' : 'next-exit');
  waited.catch(() => undefined);
  let killing: Promise<unknown> | undefined;
  const onAbort = () => {
    ctx.log.info({ container: container.id }, 'job cancelled: killing its container');
    killing = container
      .kill()
      .catch(() => undefined)
      .then(() => (spec.rm ? removeQuietly(container) : undefined));
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await start(ctx, container, spec.rm);
    const res = await waited.catch((err) => {
      throw toDockerError(err, 125);
    });
    // Output may still be in flight when wait answers; take what arrives within a moment.
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
    if (res.StatusCode >= 128 && !ctx.signal.aborted) await engineStayed(ctx, res.StatusCode);
    if (res.Error?.Message) ctx.output('stderr', `docker: ${res.Error.Message}\n`);
    return { exitCode: res.StatusCode, stdout: '', stderr: '', streamed: true, truncated: false, data: { id: container.id } };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (feeding) await Promise.race([feeding.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    if (spec.stdin) await dropStdin(ctx, spec.stdin);
    // A cancelled job ends only once its container is stopped: nothing keeps running unseen.
    if (killing) await killing;
    (attach as unknown as { destroy?: () => void }).destroy?.();
  }
}

/**
 * Copies the uploaded stdin into the hijacked attach connection, then half-closes it: the engine
 * closes the container's STDIN (StdinOnce), and the output keeps coming on the same connection.
 */
async function feedStdin(ctx: RunContext, id: string, conn: NodeJS.WritableStream): Promise<void> {
  const socket = conn as NodeJS.WritableStream & { destroyed?: boolean; end(): void };
  try {
    const source = await ctx.artifacts.stream(id, ctx.signal);
    for await (const chunk of source) {
      if (socket.destroyed) return;
      if (!socket.write(chunk as Buffer)) await new Promise<void>((r) => { socket.once('drain', r); socket.once('close', r); });
    }
  } catch (err) {
    // An upload cut off (the CLI went away): the container gets end-of-file, and the job says so.
    ctx.output('stderr', `dockops: stdin ended early: ${(err as Error).message}\n`);
  } finally {
    if (!socket.destroyed) socket.end();
  }
}

/**
 * The stdin upload is read once: it does not stay in the artifact store. Only what the CLI door
 * uploaded as stdin is removed: an artifact:ID of another file given here is left as it was.
 */
async function dropStdin(ctx: RunContext, id: string): Promise<void> {
  if ((await ctx.artifacts.stat(id))?.name !== 'stdin') return;
  const { rm } = await import('node:fs/promises');
  const path = await import('node:path');
  await rm(path.join(ctx.artifacts.root, id), { recursive: true, force: true }).catch(() => undefined);
}

/**
 * A worker died while running this job and another took it up. `run` must not run the command
 * twice: the container the earlier attempt made (found by its dockops.job-id label) is followed
 * to its end instead, its output replayed from the start. With --rm a finished container leaves
 * no trace, so the outcome is unknown and said so rather than guessed by running again.
 */
async function resumeEarlierAttempt(spec: ContainerRunSpec, ctx: RunContext): Promise<JobResult | undefined> {
  let found: Docker.ContainerInfo[];
  try {
    found = await ctx.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`dockops.job-id=${ctx.jobId}`] }) } as {});
  } catch (err) {
    throw toDockerError(err);
  }
  if (found.length === 0) {
    if (!spec.rm) return undefined; // the earlier attempt never made its container: run it now
    throw new DockerError(
      'dockops: the worker running this job stopped, and its --rm container is gone: its outcome is unknown. Not running it a second time; check the effects and run it again if needed.',
      125,
    );
  }
  const prev = found[0];
  const container = ctx.docker.getContainer(prev.Id);
  ctx.log.warn({ container: prev.Id, state: prev.State }, 'resuming the container of an earlier attempt');
  if (prev.State === 'created') {
    if (spec.detach) {
      await start(ctx, container, spec.rm);
      return { exitCode: 0, stdout: `${prev.Id}\n`, stderr: '', streamed: false, truncated: false, data: { id: prev.Id } };
    }
    return runForeground(spec, ctx, container);
  }
  if (spec.detach) return { exitCode: 0, stdout: `${prev.Id}\n`, stderr: '', streamed: false, truncated: false, data: { id: prev.Id } };
  // Replay what it printed so far and follow it to its end ('not-running' cannot miss the exit).
  await ctx.restartOutput();
  const stream = (await container.logs({ stdout: true, stderr: true, follow: true } as {})) as unknown as NodeJS.ReadableStream;
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
  stream.on('data', demux((s, data) => ctx.output(s, data.toString('utf8'))));
  const res = (await container.wait({ condition: 'not-running' } as {})) as WaitAnswer;
  await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
  (stream as unknown as { destroy?: () => void }).destroy?.();
  if (spec.rm) await removeQuietly(container);
  return { exitCode: res.StatusCode, stdout: '', stderr: '', streamed: true, truncated: false, data: { id: prev.Id, resumed: true } };
}

export const containerRun = defineCommand({
  path: ['container', 'run'],
  aliases: [['run']],
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Run a command in a new container',
  args: { min: 1 },
  interspersed: false,
  flags: [...RUN_ONLY_FLAGS, ...CONTAINER_FLAGS],
  spec: ContainerRunSpec,
  toSpec(p) {
    // docker's runContainer: -a names streams to attach to, which a detached run has none of.
    if (p.flags.detach && (p.flags.attach as string[]).length) throw new UsageError('Conflicting options: -a and -d', 1);
    let stdin: string | undefined;
    if (p.given.has('stdin-artifact')) {
      const m = /^artifact:([0-9a-f]{24})$/.exec(p.flags['stdin-artifact'] as string);
      if (!m || !p.flags.interactive || p.flags.tty || p.flags.detach) {
        throw new UsageError(`--stdin-artifact is set by the CLI door for \`run -i\` (without -t or -d): artifact:ID\n${seeHelp('run')}`);
      }
      stdin = (m as RegExpExecArray)[1];
    }
    return {
      kind: 'container.run' as const,
      ...containerConfig(p, 'run'),
      detach: p.flags.detach as boolean,
      noTerminalNote: !stdin && ((p.flags.interactive as boolean) || (p.flags.tty as boolean)),
      stdin,
    };
  },
  async run(spec, ctx) {
    if (ctx.attempt > 1) {
      const resumed = await resumeEarlierAttempt(spec, ctx);
      if (resumed) return resumed;
    }
    if (spec.noTerminalNote) ctx.output('stderr', 'dockops: -i/-t ignored: there is no terminal here; output is captured\n');
    try {
      const container = await createContainer(ctx, spec, !spec.detach, 'run', Boolean(spec.stdin));
      // The container's ID as soon as it exists (the CLI door writes `--cidfile` from it).
      ctx.progress({ container: container.id });
      if (spec.detach) {
        await start(ctx, container, spec.rm);
        return { exitCode: 0, stdout: `${container.id}\n`, stderr: '', streamed: false, truncated: false, data: { id: container.id } };
      }
      return await runForeground(spec, ctx, container);
    } catch (err) {
      if (ctx.signal.aborted && spec.rm) await removeCancelled(ctx);
      throw err;
    }
  },
});
