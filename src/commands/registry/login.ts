import { z } from 'zod';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { ARTIFACT_REF } from '../../artifacts/store.js';
import { DOCKER_HUB_KEY, authKeyHost, dockerConfigDir } from '../../docker/registry-auth.js';

export const LoginSpec = z.object({
  kind: z.literal('registry.login'),
  server: z.string(),
  username: z.string().min(1),
  /** The password travels as an uploaded file the worker reads once and deletes: never in Redis. */
  passwordArtifact: z.string().regex(/^[0-9a-f]{24}$/),
});
export type LoginSpec = z.infer<typeof LoginSpec>;

export const LogoutSpec = z.object({ kind: z.literal('registry.logout'), server: z.string() });
export type LogoutSpec = z.infer<typeof LogoutSpec>;

const configFile = () => path.join(dockerConfigDir(), 'config.json');

/** Reads, changes and writes the server's docker config atomically, mode 0600. */
async function updateConfig(change: (auths: Record<string, unknown>) => boolean): Promise<boolean> {
  const file = configFile();
  let config: { auths?: Record<string, unknown> } = {};
  try {
    config = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    config = {};
  }
  config.auths ??= {};
  const changed = change(config.auths);
  if (!changed) return false;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.dockops-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return true;
}

const keyFor = (server: string) => (server ? server : DOCKER_HUB_KEY);

export const login = defineCommand({
  path: ['login'],
  usage: '[OPTIONS] [SERVER]',
  summary: 'Log in to a Docker registry (credentials kept on the server, mode 0600)',
  args: { min: 0, max: 1 },
  flags: [
    { name: 'username', short: 'u', type: 'string', valueName: 'string', help: 'Username' },
    { name: 'password', short: 'p', type: 'string', valueName: 'string', help: 'Refused: a password is never typed into a command' },
    { name: 'password-stdin', type: 'bool', help: 'Take the password from stdin (the CLI door uploads it; it never enters job data)' },
    { name: 'password-artifact', type: 'string', valueName: 'string', hidden: true, help: 'artifact:ID of an uploaded password (set by the CLI door)' },
  ],
  spec: LoginSpec,
  toSpec(p) {
    if (p.given.has('password')) {
      throw new UsageError('--password is refused: a password typed into a command ends up in chat history and logs. Use `dockops docker login -u USER --password-stdin SERVER` and type or pipe it there.', 1);
    }
    const user = p.flags.username as string;
    if (!user) throw new UsageError('Error: Cannot perform an interactive login from a non TTY device (give -u USER and --password-stdin)', 1);
    const m = ARTIFACT_REF.exec(p.flags['password-artifact'] as string);
    if (!m) {
      throw new UsageError('--password-stdin needs the password on stdin of the dockops CLI (`echo $TOKEN | dockops docker login -u USER --password-stdin SERVER`); chat cannot carry it', 1);
    }
    return { kind: 'registry.login' as const, server: p.args[0] ?? '', username: user, passwordArtifact: m[1] };
  },
  async run(spec, ctx) {
    let password: string;
    try {
      const { stream } = await ctx.artifacts.open(spec.passwordArtifact);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    } finally {
      // Read once, then gone: the password does not stay in the artifact store.
      await rm(path.join(ctx.artifacts.root, spec.passwordArtifact), { recursive: true, force: true });
    }
    if (!password) throw new UsageError('Error: Password Required', 1);
    const serveraddress = spec.server || DOCKER_HUB_KEY;
    try {
      await ctx.docker.checkAuth({ username: spec.username, password, serveraddress } as never);
    } catch (err) {
      const e = toDockerError(err);
      throw new DockerError(e.message, 1);
    }
    await updateConfig((auths) => {
      auths[keyFor(spec.server)] = { auth: Buffer.from(`${spec.username}:${password}`).toString('base64') };
      return true;
    });
    return { exitCode: 0, stdout: 'Login Succeeded\n', stderr: '', streamed: false, truncated: false, data: { server: authKeyHost(serveraddress) } };
  },
});

export const logout = defineCommand({
  path: ['logout'],
  usage: '[SERVER]',
  summary: 'Log out from a Docker registry (removes the credentials the server keeps)',
  args: { min: 0, max: 1 },
  flags: [],
  spec: LogoutSpec,
  toSpec: (p) => ({ kind: 'registry.logout' as const, server: p.args[0] ?? '' }),
  async run(spec) {
    const host = authKeyHost(keyFor(spec.server));
    const removed = await updateConfig((auths) => {
      let any = false;
      for (const k of Object.keys(auths)) {
        if (authKeyHost(k) === host) {
          delete auths[k];
          any = true;
        }
      }
      return any;
    });
    const shown = spec.server || DOCKER_HUB_KEY;
    if (!removed) return { exitCode: 0, stdout: `Not logged in to ${shown}\n`, stderr: '', streamed: false, truncated: false };
    return { exitCode: 0, stdout: `Removing login credentials for ${shown}\n`, stderr: '', streamed: false, truncated: false };
  },
});
