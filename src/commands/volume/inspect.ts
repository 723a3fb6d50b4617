import { z } from 'zod';
import { defineCommand } from '../define.js';
import { inspectOutput, type Inspected } from '../../render/inspect-output.js';
import { notFoundOr } from '../../errors.js';

export const VolumeInspectSpec = z.object({
  kind: z.literal('volume.inspect'),
  volumes: z.array(z.string()).min(1),
  format: z.string().optional(),
});
export type VolumeInspectSpec = z.infer<typeof VolumeInspectSpec>;

/** docker's types.Volume: the CLI decodes the engine's answer into it, so fields come in its order. */
class GoVolume {
  constructor(v: Record<string, unknown>) {
    const self = this as Record<string, unknown>;
    if (v.CreatedAt) self.CreatedAt = v.CreatedAt;
    self.Driver = v.Driver ?? '';
    self.Labels = sortedMap(v.Labels);
    self.Mountpoint = v.Mountpoint ?? '';
    self.Name = v.Name ?? '';
    self.Options = sortedMap(v.Options);
    self.Scope = v.Scope ?? '';
    if (v.Status && Object.keys(v.Status).length) self.Status = sortedMap(v.Status);
    const u = v.UsageData as { RefCount?: number; Size?: number } | null | undefined;
    if (u) self.UsageData = { RefCount: u.RefCount ?? 0, Size: u.Size ?? 0 };
  }
}
// Go names the type in template errors: "can't evaluate field Nope in type types.Volume".
Object.defineProperty(GoVolume, 'name', { value: 'types.Volume' });

/** A Go map as json.Marshal writes it: keys sorted, all the way down. */
function sortedMap(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(sortedMap);
  if (typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortedMap((v as Record<string, unknown>)[k]) ?? null]),
  );
}

export const volumeInspect = defineCommand({
  path: ['volume', 'inspect'],
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  args: { min: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' }],
  spec: VolumeInspectSpec,
  toSpec: (p) => ({ kind: 'volume.inspect' as const, volumes: p.args, format: (p.flags.format as string) || undefined }),
  async run(spec, ctx) {
    const items: Inspected[] = [];
    for (const name of spec.volumes) {
      try {
        const v = (await ctx.docker.getVolume(name).inspect({ abortSignal: ctx.signal } as {})) as unknown as Record<string, unknown>;
        items.push({ value: new GoVolume(v) });
      } catch (err) {
        const e = notFoundOr(err, 'volume', name);
        if (e.code === 'unavailable') throw e;
        items.push({ error: e.message });
      }
    }
    return inspectOutput(items, { format: spec.format, htmlEscape: true });
  },
});
