/**
 * --env-file and --label-file: files the CLI uploaded (artifacts), read here in the worker so
 * their values never travel through Redis, with docker's formats and words.
 */
import { DockerError } from '../../errors.js';
import type { RunContext } from '../../jobs/types.js';
import type { ContainerConfigSpec } from './run-options.js';

/** Puts the uploaded files' variables and labels in the create body; the command line's win. */
export async function applyUploadedFiles(ctx: RunContext, c: ContainerConfigSpec, opts: Record<string, unknown>, cmdPath: string): Promise<void> {
  if (c.envFile.length) {
    const fromFiles: string[] = [];
    for (const id of c.envFile) {
      const file = await readArtifact(ctx, id);
      fromFiles.push(...parseEnvFile(file.text, file.name, cmdPath));
    }
    opts.Env = [...fromFiles, ...c.env];
  }
  if (c.extras?.labelFile?.length) {
    // docker reads label files first: -l given on the command line wins over a file's line.
    const labels: Record<string, string> = {};
    for (const id of c.extras.labelFile) {
      for (const l of parseLabelFile(await readArtifact(ctx, id), cmdPath)) {
        const eq = l.indexOf('=');
        labels[l.slice(0, eq)] = l.slice(eq + 1);
      }
    }
    for (const k of Object.keys(labels)) {
      if (k.startsWith('dockops.')) throw new DockerError(`docker: the label prefix "dockops." is reserved for dockops itself (in --label-file).\nSee 'docker ${cmdPath} --help'.`, 125);
    }
    opts.Labels = { ...labels, ...(opts.Labels as Record<string, string>) };
  }
}

/**
 * docker's env-file format: one VAR=VALUE a line, `#` comments and blank lines skipped, the
 * value taken as written. A bare VAR would take the client's variable: dockops has none.
 */
export function parseEnvFile(text: string, name: string, cmdPath = 'run'): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line.trimEnd();
    if (/\s/.test(key)) throw new DockerError(`docker: poorly formatted environment: variable '${key}' contains whitespaces.\nSee 'docker ${cmdPath} --help'.`, 125);
    if (eq < 0) throw new DockerError(`docker: ${name} line ${i + 1}: ${key} has no value, and dockops has no shell environment to take it from; write ${key}=VALUE.\nSee 'docker ${cmdPath} --help'.`, 125);
    out.push(line);
  });
  return out;
}

async function readArtifact(ctx: RunContext, id: string): Promise<{ text: string; name: string }> {
  const { artifact, stream } = await ctx.artifacts.open(id);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { text: Buffer.concat(chunks).toString('utf8'), name: artifact.name };
}

/**
 * docker's label-file format (opts.ReadKVStrings): one KEY=VALUE a line, `#` comments, blank
 * lines and bare KEYs skipped, a key with blanks refused.
 */
export function parseLabelFile(file: { text: string; name: string }, cmdPath = 'run'): string[] {
  const out: string[] = [];
  file.text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw) => {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line;
    if (/[ \t]/.test(key)) throw new DockerError(`docker: poorly formatted environment: variable '${key}' contains whitespaces.\nSee 'docker ${cmdPath} --help'.`, 125);
    if (!key) throw new DockerError(`docker: poorly formatted environment: no variable name on line '${line}'.\nSee 'docker ${cmdPath} --help'.`, 125);
    // A bare KEY would take the client's variable of that name; labels have none, and docker drops the line.
    if (eq >= 0) out.push(line);
  });
  return out;
}
