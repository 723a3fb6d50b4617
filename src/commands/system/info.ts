import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { compileTemplate, unescapeFormat } from '../../render/go-template.js';
import { bytesSize } from '../../render/units.js';
import { toDockerError, UsageError } from '../../errors.js';

export const InfoSpec = z.object({ kind: z.literal('system.info'), format: z.string().optional() });
export type InfoSpec = z.infer<typeof InfoSpec>;

type Info = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The Server block of `docker info` (20.10), from GET /info. */
export function infoText(i: Info, host: string): string {
  const out: string[] = ['Client:', ` Context:    ${host}`, ' Debug Mode: false', '', 'Server:'];
  const add = (s: string) => out.push(s);
  add(` Containers: ${i.Containers}`);
  add(`  Running: ${i.ContainersRunning}`);
  add(`  Paused: ${i.ContainersPaused}`);
  add(`  Stopped: ${i.ContainersStopped}`);
  add(` Images: ${i.Images}`);
  add(` Server Version: ${i.ServerVersion}`);
  add(` Storage Driver: ${i.Driver}`);
  for (const [k, v] of (i.DriverStatus ?? []) as [string, string][]) add(`  ${k}: ${v}`);
  add(` Logging Driver: ${i.LoggingDriver}`);
  add(` Cgroup Driver: ${i.CgroupDriver}`);
  add(` Cgroup Version: ${i.CgroupVersion}`);
  add(' Plugins:');
  add(`  Volume: ${(i.Plugins?.Volume ?? []).join(' ')}`);
  add(`  Network: ${(i.Plugins?.Network ?? []).join(' ')}`);
  add(`  Log: ${(i.Plugins?.Log ?? []).join(' ')}`);
  add(` Swarm: ${i.Swarm?.LocalNodeState ?? 'inactive'}`);
  add(` Runtimes: ${Object.keys(i.Runtimes ?? {}).sort().join(' ')}`);
  add(` Default Runtime: ${i.DefaultRuntime}`);
  add(` Init Binary: ${i.InitBinary}`);
  add(` containerd version: ${i.ContainerdCommit?.ID ?? ''}`);
  add(` runc version: ${i.RuncCommit?.ID ?? ''}`);
  add(` init version: ${i.InitCommit?.ID ?? ''}`);
  if ((i.SecurityOptions ?? []).length) {
    add(' Security Options:');
    for (const opt of i.SecurityOptions as string[]) {
      const kv = opt.split(',').map((p) => p.split('='));
      const name = kv.find((p) => p[0] === 'name')?.[1] ?? opt;
      add(`  ${name}`);
      for (const [k, v] of kv) {
        if (k === 'name') continue;
        add(`   ${k === 'profile' ? 'Profile' : k}: ${v}`);
      }
    }
  }
  add(` Kernel Version: ${i.KernelVersion}`);
  add(` Operating System: ${i.OperatingSystem}`);
  add(` OSType: ${i.OSType}`);
  add(` Architecture: ${i.Architecture}`);
  add(` CPUs: ${i.NCPU}`);
  add(` Total Memory: ${bytesSize(i.MemTotal)}`);
  add(` Name: ${i.Name}`);
  add(` ID: ${i.ID}`);
  add(` Docker Root Dir: ${i.DockerRootDir}`);
  add(` Debug Mode: ${i.Debug}`);
  if (i.HttpProxy) add(` HTTP Proxy: ${i.HttpProxy}`);
  if (i.HttpsProxy) add(` HTTPS Proxy: ${i.HttpsProxy}`);
  if (i.NoProxy) add(` No Proxy: ${i.NoProxy}`);
  if (i.IndexServerAddress) add(` Registry: ${i.IndexServerAddress}`);
  add(' Labels:');
  for (const l of (i.Labels ?? []) as string[]) add(`  ${l}`);
  add(` Experimental: ${i.ExperimentalBuild}`);
  const insecure = [...((i.RegistryConfig?.InsecureRegistryCIDRs ?? []) as string[])];
  for (const [name, idx] of Object.entries((i.RegistryConfig?.IndexConfigs ?? {}) as Record<string, { Secure: boolean; Official: boolean }>)) {
    if (!idx.Secure && !idx.Official) insecure.push(name);
  }
  if (insecure.length) {
    add(' Insecure Registries:');
    for (const r of insecure) add(`  ${r}`);
  }
  const mirrors = (i.RegistryConfig?.Mirrors ?? []) as string[];
  if (mirrors.length) {
    add(' Registry Mirrors:');
    for (const m of mirrors) add(`  ${m}`);
  }
  add(` Live Restore Enabled: ${i.LiveRestoreEnabled}`);
  return out.join('\n') + '\n\n';
}

export const info = defineCommand({
  path: ['system', 'info'],
  aliases: [['info']],
  usage: '[OPTIONS]',
  summary: 'Display system-wide information',
  args: { min: 0, max: 0 },
  flags: [{ name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' }],
  spec: InfoSpec,
  toSpec: (p) => ({ kind: 'system.info' as const, format: (p.flags.format as string) || undefined }),
  async run(spec, ctx) {
    let i: Info;
    try {
      i = (await ctx.docker.info()) as Info;
    } catch (err) {
      throw toDockerError(err);
    }
    if (spec.format) {
      try {
        return ok(`${compileTemplate(unescapeFormat(spec.format), { rowContext: false })(i)}\n`, i);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    const warnings = ((i.Warnings ?? []) as string[]).map((w) => `${w}\n`).join('');
    return { ...ok(infoText(i, ctx.host), i), stderr: warnings };
  },
});
