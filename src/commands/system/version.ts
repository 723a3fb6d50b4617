import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { compileTemplate, unescapeFormat } from '../../render/go-template.js';
import { ansic } from '../../render/time.js';
import { toDockerError, UsageError } from '../../errors.js';
import { VERSION } from '../../version.js';

export const VersionSpec = z.object({ kind: z.literal('system.version'), format: z.string().optional() });
export type VersionSpec = z.infer<typeof VersionSpec>;

interface Component {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}
interface EngineVersion {
  Platform?: { Name?: string };
  Components?: Component[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  BuildTime?: string;
  Experimental?: boolean;
}

/** The Server block exactly as the docker CLI (20.10) prints it. */
export function serverBlock(v: EngineVersion): string {
  const lines = [`Server:${v.Platform?.Name ? ` ${v.Platform.Name}` : ''}`];
  for (const c of v.Components ?? []) {
    lines.push(` ${c.Name}:`);
    const d = c.Details ?? {};
    if (c.Name === 'Engine') {
      lines.push(`  Version:          ${c.Version}`);
      lines.push(`  API version:      ${d.ApiVersion} (minimum version ${d.MinAPIVersion})`);
      lines.push(`  Go version:       ${d.GoVersion}`);
      lines.push(`  Git commit:       ${d.GitCommit}`);
      lines.push(`  Built:            ${ansic(d.BuildTime ?? '')}`);
      lines.push(`  OS/Arch:          ${d.Os}/${d.Arch}`);
      lines.push(`  Experimental:     ${d.Experimental}`);
    } else {
      lines.push(`  Version:          ${c.Version}`);
      for (const key of Object.keys(d).sort()) lines.push(`  ${`${key}:`.padEnd(18)}${d[key]}`);
    }
  }
  return lines.join('\n') + '\n';
}

export const version = defineCommand({
  path: ['version'],
  aliases: [['system', 'version']],
  usage: '[OPTIONS]',
  summary: 'Show the Docker version information',
  args: { min: 0, max: 0 },
  flags: [{ name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' }],
  spec: VersionSpec,
  toSpec: (p) => ({ kind: 'system.version' as const, format: (p.flags.format as string) || undefined }),
  async run(spec, ctx) {
    let server: EngineVersion;
    try {
      server = (await ctx.docker.version()) as unknown as EngineVersion;
    } catch (err) {
      throw toDockerError(err);
    }
    const client = {
      Platform: { Name: 'dockops' },
      Version: VERSION,
      ApiVersion: server.ApiVersion,
      DefaultAPIVersion: server.ApiVersion,
      GoVersion: `node ${process.version}`,
      Os: process.platform,
      Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      Context: ctx.host,
    };
    const data = { Client: client, Server: server };
    if (spec.format) {
      try {
        return ok(`${compileTemplate(unescapeFormat(spec.format), { rowContext: false })(data)}\n`, data);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    const text =
      `Client: dockops\n` +
      ` Version:           ${VERSION}\n` +
      ` API version:       ${server.ApiVersion}\n` +
      ` Node version:      ${process.version}\n` +
      ` OS/Arch:           ${client.Os}/${client.Arch}\n` +
      ` Context:           ${ctx.host}\n\n` +
      serverBlock(server);
    return ok(text, data);
  },
});
