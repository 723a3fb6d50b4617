import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { DockerError, UsageError, notFoundOr } from '../../errors.js';

export const ContainerPortSpec = z.object({
  kind: z.literal('container.port'),
  container: z.string().min(1),
  /** `80/tcp`; absent: every published port. */
  port: z.string().regex(/^\d+\/[a-z]+$/).optional(),
});
export type ContainerPortSpec = z.infer<typeof ContainerPortSpec>;

type Binding = { HostIp: string; HostPort: string };

/** Go's net.JoinHostPort: an IPv6 address in brackets. */
function hostPort(b: Binding): string {
  return b.HostIp.includes(':') ? `[${b.HostIp}]:${b.HostPort}` : `${b.HostIp}:${b.HostPort}`;
}

export const containerPort = defineCommand({
  path: ['container', 'port'],
  aliases: [['port']],
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  args: { min: 1, max: 2 },
  flags: [],
  spec: ContainerPortSpec,
  toSpec(p) {
    let port: string | undefined;
    if (p.args[1] !== undefined) {
      const [num, proto] = p.args[1].split('/', 2);
      const n = Number(num);
      if (!/^\d+$/.test(num) || n < 0 || n > 65535) throw new UsageError(`Error: invalid port "${p.args[1]}"`, 1);
      port = `${n}/${proto ? proto.toLowerCase() : 'tcp'}`;
    }
    return { kind: 'container.port' as const, container: p.args[0], port };
  },
  async run(spec, ctx) {
    let ports: Record<string, Binding[] | null>;
    try {
      const info = await ctx.docker.getContainer(spec.container).inspect({ abortSignal: ctx.signal } as {});
      ports = (info.NetworkSettings?.Ports ?? {}) as Record<string, Binding[] | null>;
    } catch (err) {
      throw notFoundOr(err, 'container', spec.container);
    }
    if (spec.port) {
      const bindings = ports[spec.port];
      if (bindings) return ok(bindings.map((b) => `${hostPort(b)}\n`).join(''), bindings);
      throw new DockerError(`Error: No public port '${spec.port}' published for ${spec.container}`, 1);
    }
    const keys = Object.keys(ports).sort((a, b) => {
      const [pa, ta] = a.split('/');
      const [pb, tb] = b.split('/');
      return Number(pa) - Number(pb) || ta.localeCompare(tb);
    });
    const lines = keys.flatMap((k) => (ports[k] ?? []).map((b) => `${k} -> ${hostPort(b)}\n`));
    return ok(lines.join(''), ports);
  },
});
