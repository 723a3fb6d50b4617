import { randomBytes } from 'node:crypto';
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * `dockops docker build … DIR` on the person's side: the directory is packed here (the server
 * never reads a path of its own) and uploaded, and the job is given `artifact:ID`. `-` uploads a
 * tar from stdin. Git URLs and `artifact:ID` go to the server as they are.
 */
export interface BuildPlan {
  /** The context word as typed: a directory, or '-' for stdin. */
  given: string;
  /** Index of the context word in the arguments. */
  index: number;
  /** `-f/--file` as typed, and where its value sits (to point it into the packed context). */
  file?: { index: number; prefix: string; value: string };
}

/** docker build's flags that take a value (so their value is not taken for the context). */
const VALUE_FLAGS = new Set([
  'add-host', 'build-arg', 'cache-from', 'cgroup-parent', 'cpu-period', 'cpu-quota', 'cpu-shares', 'cpuset-cpus', 'cpuset-mems', 'file', 'iidfile', 'isolation',
  'label', 'memory', 'memory-swap', 'network', 'output', 'platform', 'progress', 'secret', 'security-opt', 'shm-size', 'ssh', 'tag', 'target', 'ulimit',
]);
const VALUE_SHORTS = new Set(['t', 'f', 'm', 'c', 'o']);

/** Finds the context word and the -f flag among `docker build` arguments (after the verb, from `from`). */
export function planBuild(words: string[], from: number): BuildPlan | undefined {
  let file: BuildPlan['file'];
  const positional: number[] = [];
  for (let i = from; i < words.length; i++) {
    const w = words[i];
    if (w === '--') {
      for (let j = i + 1; j < words.length; j++) positional.push(j);
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = w.slice(2, eq < 0 ? undefined : eq);
      if (!VALUE_FLAGS.has(name)) continue;
      if (eq >= 0) {
        if (name === 'file') file = { index: i, prefix: `--file=`, value: w.slice(eq + 1) };
      } else {
        if (name === 'file' && i + 1 < words.length) file = { index: i + 1, prefix: '', value: words[i + 1] };
        i++;
      }
      continue;
    }
    if (w.startsWith('-') && w !== '-') {
      // Short flags, possibly bundled (-qt NAME, -tNAME): a value flag takes the rest or the next word.
      for (let k = 1; k < w.length; k++) {
        if (!VALUE_SHORTS.has(w[k])) continue;
        const restOfWord = w.slice(k + 1).replace(/^=/, '');
        if (restOfWord) {
          if (w[k] === 'f') file = { index: i, prefix: w.slice(0, w.length - restOfWord.length), value: restOfWord };
        } else {
          if (w[k] === 'f' && i + 1 < words.length) file = { index: i + 1, prefix: '', value: words[i + 1] };
          i++;
        }
        break;
      }
      continue;
    }
    positional.push(i);
  }
  if (positional.length !== 1) return undefined; // the server says what is wrong, in docker's words
  const index = positional[0];
  const given = words[index];
  if (/^(https?:\/\/|git@|git:\/\/|ssh:\/\/|file:\/\/|artifact:)/.test(given)) return undefined;
  return { given, index, file };
}

export interface PreparedContext {
  /** The directory, resolved (symlinks of the path itself followed, as docker does). */
  dir: string;
  /** The Dockerfile's name inside the packed context, for `-f`; undefined: the default `Dockerfile`. */
  dockerfile?: string;
  /** A Dockerfile from outside the directory (or stdin), added to the tar under `dockerfile`. */
  extra?: { name: string; content: Buffer };
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/**
 * Checks the directory and the Dockerfile with the docker CLI's rules and words: `-f` is relative
 * to the current directory, not the context; a Dockerfile outside the context (or `-f -`) is
 * added to it under a name of its own; `Dockerfile` falls back to `dockerfile`.
 */
export async function prepareBuildContext(plan: BuildPlan, cwd: string, stdin: NodeJS.ReadableStream): Promise<PreparedContext | { error: string }> {
  const abs = path.resolve(cwd, plan.given);
  if (!(await lstat(abs).catch(() => undefined))) return { error: `unable to prepare context: path "${plan.given}" not found` };
  const dir = await realpath(abs);
  if (!(await stat(dir)).isDirectory()) return { error: `unable to prepare context: context must be a directory: ${abs}` };
  const fromStdin = plan.file?.value === '-';
  if (fromStdin) {
    const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
    return { dir, dockerfile: name, extra: { name, content: await readAll(stdin) } };
  }
  let file = plan.file?.value ? path.resolve(cwd, plan.file.value) : path.join(dir, 'Dockerfile');
  if (!plan.file?.value && !(await lstat(file).catch(() => undefined)) && (await lstat(path.join(dir, 'dockerfile')).catch(() => undefined))) file = path.join(dir, 'dockerfile');
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return { error: `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${file}: no such file or directory` };
  }
  if (!(await stat(real)).isFile()) return { error: `unable to prepare context: Cannot locate specified Dockerfile: ${file}` };
  const rel = path.relative(dir, real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    const { readFile } = await import('node:fs/promises');
    const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
    return { dir, dockerfile: name, extra: { name, content: await readFile(real) } };
  }
  const posix = rel.split(path.sep).join('/');
  return { dir, dockerfile: plan.file?.value || posix !== 'Dockerfile' ? posix : undefined };
}

/** The context as a tar stream (tar-stream; .dockerignore honoured; links never followed; no .git). */
export async function packBuildContext(c: PreparedContext): Promise<Readable> {
  const { packContext } = await import('../../docker/context-tar.js');
  return packContext(c.dir, { dockerfile: c.dockerfile ?? 'Dockerfile', extra: c.extra ? [c.extra] : undefined });
}
