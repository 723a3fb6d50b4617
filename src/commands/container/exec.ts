import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand } from '../define.js';
import { UsageError, notFoundOr, toDockerError } from '../../errors.js';
import { followExec } from '../../docker/exec.js';

export const ContainerExecSpec = z.object({
  kind: z.literal('container.exec'),
  container: z.string().min(1),
  cmd: z.array(z.string()).min(1),
  detach: z.boolean(),
  env: z.array(z.string()),
  user: z.string().optional(),
  workdir: z.string().optional(),
  privileged: z.boolean(),
  /** -i/-t were given: said once on stderr, since there is no terminal to attach. */
  noTerminalNote: z.boolean(),
});
export type ContainerExecSpec = z.infer<typeof ContainerExecSpec>;

function fail(msg: string): never {
  throw new UsageError(`${msg}\nSee 'docker exec --help'.`);
}

/**
 * `docker exec`: one command in a running container, its output streamed to the job log and
 * its exit code the job's. When the command cannot be run the engine writes the runtime's
 * message ("OCI runtime exec failed: … executable file not found …") on the exec's stdout and
 * the exec ends with 126 (127 for a shell's "not found"), as docker 20.10 shows them.
 *
 * Cancel: the Engine API has no call to stop an exec'd process. A cancelled job stops waiting
 * and closes the stream; the process goes on inside the container until it ends by itself (or
 * the container stops). `docker exec` behaves the same when its client goes away.
 */
export const containerExec = defineCommand({
  path: ['container', 'exec'],
  aliases: [['exec']],
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Run a command in a running container',
  args: { min: 2 },
  interspersed: false,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: run command in the background' },
    { name: 'env', short: 'e', type: 'list', valueName: 'list', help: 'Set environment variables (NAME=VALUE)' },
    { name: 'interactive', short: 'i', type: 'bool', help: 'Accepted; dockops has no terminal, so STDIN stays closed' },
    { name: 'privileged', type: 'bool', help: 'Give extended privileges to the command (subject to policy)' },
    { name: 'tty', short: 't', type: 'bool', help: 'Accepted; dockops has no terminal, output is captured as is' },
    { name: 'user', short: 'u', type: 'string', valueName: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
    { name: 'workdir', short: 'w', type: 'string', valueName: 'string', help: 'Working directory inside the container' },
  ],
  spec: ContainerExecSpec,
  toSpec(p) {
    const env = p.flags.env as string[];
    for (const e of env) {
      if (e.startsWith('=')) fail(`invalid environment variable: ${e}`);
      // docker copies the client's own variable for `-e NAME`; dockops has no client shell.
      if (!e.includes('=')) fail(`-e ${e}: dockops has no shell environment to take ${e} from; write -e ${e}=VALUE`);
    }
    return {
      kind: 'container.exec' as const,
      container: p.args[0],
      cmd: p.args.slice(1),
      detach: p.flags.detach as boolean,
      env,
      user: (p.flags.user as string) || undefined,
      workdir: (p.flags.workdir as string) || undefined,
      privileged: p.flags.privileged as boolean,
      noTerminalNote: (p.flags.interactive as boolean) || (p.flags.tty as boolean),
    };
  },
  async run(spec, ctx) {
    if (spec.noTerminalNote) ctx.output('stderr', 'dockops: -i/-t ignored: there is no terminal here; output is captured\n');
    let exec: Docker.Exec;
    try {
      exec = await ctx.docker.getContainer(spec.container).exec({
        Cmd: spec.cmd,
        Env: spec.env.length ? spec.env : undefined,
        User: spec.user,
        WorkingDir: spec.workdir,
        Privileged: spec.privileged,
        AttachStdin: false,
        AttachStdout: !spec.detach,
        AttachStderr: !spec.detach,
        Tty: false,
        abortSignal: ctx.signal,
      } as Docker.ExecCreateOptions);
    } catch (err) {
      // docker looks the container up first: "Error: No such container: NAME".
      throw notFoundOr(err, 'container', spec.container);
    }
    if (spec.detach) {
      try {
        // The answer is a stream even when detached: drain and close it, or its socket stays open.
        const answer = (await exec.start({ Detach: true, Tty: false } as Docker.ExecStartOptions)) as unknown as { resume?(): void; destroy?(): void } | undefined;
        answer?.resume?.();
        answer?.destroy?.();
      } catch (err) {
        throw toDockerError(err);
      }
      return { exitCode: 0, stdout: '', stderr: '', streamed: false, truncated: false, data: { execId: exec.id } };
    }
    const code = await followExec(exec, (s, t) => ctx.output(s, t), ctx.signal, ctx.log);
    if (code === undefined) return { exitCode: 130, stdout: '', stderr: '', streamed: true, truncated: false, data: { execId: exec.id } };
    return { exitCode: code, stdout: '', stderr: '', streamed: true, truncated: false, data: { execId: exec.id } };
  },
});
