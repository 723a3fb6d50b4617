import { z } from 'zod';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, daemonMessage, toDockerError } from '../../errors.js';
import { demux } from '../../docker/streams.js';
import type { JobResult, RunContext } from '../../jobs/types.js';

export const ContainerStartSpec = z.object({
  kind: z.literal('container.start'),
  containers: z.array(z.string().min(1)).min(1),
  attach: z.boolean(),
});
export type ContainerStartSpec = z.infer<typeof ContainerStartSpec>;

/** `start -a`: output streamed to the job log, the container's exit code as the job's. */
async function startAttached(ctx: RunContext, name: string): Promise<JobResult> {
  const container = ctx.docker.getContainer(name);
  let tty = false;
  try {
    tty = Boolean((await container.inspect({ abortSignal: ctx.signal } as {})).Config?.Tty);
  } catch (err) {
    throw toDockerError(err);
  }
  const attach = (await container.attach({ stream: true, stdout: true, stderr: true, logs: false } as any).catch((err: unknown) => {
    throw toDockerError(err);
  })) as unknown as NodeJS.ReadableStream;
  const ended = new Promise<void>((resolve) => {
    attach.on('end', resolve);
    attach.on('close', resolve);
    attach.on('error', () => resolve());
  });
  const onFrame = (s: 'stdout' | 'stderr', data: Buffer) => ctx.output(s, data.toString('utf8'));
  attach.on('data', tty ? (c: Buffer) => onFrame('stdout', c) : demux(onFrame));
  // Cancelling detaches, as Ctrl-P Ctrl-Q would: the container keeps running.
  const detach = () => (attach as unknown as { destroy?: () => void }).destroy?.();
  ctx.signal.addEventListener('abort', detach, { once: true });
  try {
    try {
      await container.start({ abortSignal: ctx.signal } as {});
    } catch (err) {
      throw new DockerError(`Error response from daemon: ${daemonMessage(err)}\nError: failed to start containers: ${name}`, 1);
    }
    const res = (await container.wait({ condition: 'not-running', abortSignal: ctx.signal } as {}).catch((err: unknown) => {
      throw toDockerError(err);
    })) as { StatusCode: number };
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
    return { exitCode: res.StatusCode, stdout: '', stderr: '', streamed: true, truncated: false, data: { id: name } };
  } finally {
    ctx.signal.removeEventListener('abort', detach);
    detach();
  }
}

export const containerStart = defineCommand({
  path: ['container', 'start'],
  aliases: [['start']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  args: { min: 1 },
  flags: [
    { name: 'attach', short: 'a', type: 'bool', help: "Attach STDOUT/STDERR (output is captured; the container's exit code is the job's)" },
    { name: 'detach-keys', type: 'string', valueName: 'string', help: 'Override the key sequence for detaching a container (no effect: no terminal)', hidden: true },
    { name: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN (refused: dockops has no terminal)" },
  ],
  spec: ContainerStartSpec,
  toSpec(p) {
    if (p.flags.interactive) {
      throw new UsageError(`dockops: start -i needs a terminal to send STDIN from, and there is none here; use start -a to see the output\nSee 'docker start --help'.`);
    }
    if (p.flags.attach && p.args.length > 1) throw new UsageError('you cannot start and attach multiple containers at once', 1);
    return { kind: 'container.start' as const, containers: p.args, attach: p.flags.attach as boolean };
  },
  async run(spec, ctx) {
    if (spec.attach) return startAttached(ctx, spec.containers[0]);
    // As docker: each failure is said at once, then one closing error naming them all.
    const failed: string[] = [];
    let stdout = '';
    let stderr = '';
    for (const name of spec.containers) {
      try {
        await ctx.docker
          .getContainer(name)
          .start({ abortSignal: ctx.signal } as {})
          .catch((err: { statusCode?: number }) => {
            // 304: already running, which docker counts as started.
            if (err?.statusCode !== 304) throw err;
          });
        stdout += `${name}\n`;
      } catch (err) {
        stderr += `${toDockerError(err).message}\n`;
        failed.push(name);
      }
    }
    if (failed.length) stderr += `Error: failed to start containers: ${failed.join(', ')}\n`;
    return { exitCode: failed.length ? 1 : 0, stdout, stderr, streamed: false, truncated: false };
  },
});
