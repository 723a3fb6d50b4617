import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Files on the person's side of the CLI door. The server never reads or writes a path given in
 * a command: `load -i FILE` uploads FILE and sends `-i artifact:ID`; `save -o FILE` and
 * `export -o FILE` send the bare name and download the artifact the job made to FILE (or to
 * stdout when it is redirected, as docker writes the tar to stdout).
 */
export interface FilePlan {
  args: string[];
  /** Where the job's artifact goes: a local path, or '-' for stdout. */
  download?: string;
  /** A local file (or '-' for stdin) to upload and put in place of `uploadAt`. */
  upload?: { source: string; index: number; prefix: string };
  /** A refusal in docker's words, before anything is sent. */
  error?: string;
}

const OUTPUT_VERBS = new Set(['save', 'image save', 'export', 'container export']);
const INPUT_VERBS = new Set(['load', 'image load']);

function verbOf(words: string[]): { verb: string; rest: number } {
  const two = words.slice(0, 2).join(' ');
  if (OUTPUT_VERBS.has(two) || INPUT_VERBS.has(two)) return { verb: two, rest: 2 };
  return { verb: words[0] ?? '', rest: 1 };
}

/** Finds a string flag (`-o X`, `-oX`, `-o=X`, `--output X`, `--output=X`) among the words. */
function findFlag(words: string[], from: number, short: string, long: string): { index: number; value: string; prefix: string } | undefined {
  for (let i = from; i < words.length; i++) {
    const w = words[i];
    if (w === '--') return undefined;
    if (w === `-${short}` || w === `--${long}`) return i + 1 < words.length ? { index: i + 1, value: words[i + 1], prefix: '' } : undefined;
    if (w.startsWith(`--${long}=`)) return { index: i, value: w.slice(long.length + 3), prefix: `--${long}=` };
    if (w.startsWith(`-${short}`) && w.length > 2 && !w.startsWith('--')) {
      const v = w.slice(2).replace(/^=/, '');
      return { index: i, value: v, prefix: `-${short}` };
    }
  }
  return undefined;
}

export function planFiles(words: string[], io: { stdinIsTTY: boolean; stdoutIsTTY: boolean; cwd: string }): FilePlan {
  const { verb, rest } = verbOf(words);
  const args = [...words];
  if (OUTPUT_VERBS.has(verb)) {
    const o = findFlag(words, rest, 'o', 'output');
    if (o) {
      args[o.index] = o.prefix + path.basename(o.value);
      return { args, download: path.resolve(io.cwd, o.value) };
    }
    if (io.stdoutIsTTY) return { args, error: 'cowardly refusing to save to a terminal. Use the -o flag or redirect' };
    return { args, download: '-' };
  }
  if (INPUT_VERBS.has(verb)) {
    const i = findFlag(words, rest, 'i', 'input');
    if (i && i.value.startsWith('artifact:')) return { args };
    if (i) return { args, upload: { source: path.resolve(io.cwd, i.value), index: i.index, prefix: i.prefix } };
    if (io.stdinIsTTY) return { args, error: 'requested load from stdin, but stdin is empty' };
    args.push('-i', 'artifact:pending');
    return { args, upload: { source: '-', index: args.length - 1, prefix: '' } };
  }
  if (verb === 'import' || verb === 'image import') {
    // The source is the first positional word (after -c/-m/--platform and their values).
    for (let i = rest; i < words.length; i++) {
      const w = words[i];
      if (['-c', '--change', '-m', '--message', '--platform'].includes(w)) {
        i++;
        continue;
      }
      if (w.startsWith('-') && w !== '-') continue;
      if (/^(https?:\/\/|artifact:)/.test(w)) return { args };
      if (w === '-' && io.stdinIsTTY) return { args, error: 'requested import from stdin, but stdin is empty' };
      return { args, upload: { source: w === '-' ? '-' : path.resolve(io.cwd, w), index: i, prefix: '' } };
    }
  }
  return { args };
}

export function openSource(source: string): NodeJS.ReadableStream {
  return source === '-' ? process.stdin : createReadStream(source);
}

/** Writes to a temporary name beside the target and renames it: no half file under the real name. */
export async function atomicTarget(target: string): Promise<{ stream: NodeJS.WritableStream; commit(): Promise<void>; abort(): Promise<void> }> {
  if (target === '-') return { stream: process.stdout, commit: async () => undefined, abort: async () => undefined };
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.dockops-partial`);
  const stream = createWriteStream(tmp);
  await new Promise((r, j) => {
    stream.once('open', r);
    stream.once('error', j);
  });
  return { stream, commit: () => rename(tmp, target), abort: () => rm(tmp, { force: true }) };
}
