import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { planBuild, type BuildPlan } from './build-context.js';

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
  /** run/create --env-file / --label-file: local files to upload, each put in place of its word as artifact:ID. */
  runFiles?: Array<{ source: string; given: string; cmd: string; index: number; prefix: string }>;
  /** A local file (or '-' for stdin) to upload and put in place of `uploadAt`; `tar`: pack it first (cp). */
  upload?: { source: string; index: number; prefix: string; tar?: boolean; followLinks?: boolean };
  /** cp from a container: unpack the downloaded tar at this local path with docker's rules. */
  extractTo?: string;
  /** A refusal in docker's words, before anything is sent. */
  error?: string;
  /** `build DIR`: pack the directory here, upload it, and put `artifact:ID` in its place. */
  build?: BuildPlan;
  /** run/create --cidfile FILE (taken out of the words): the container ID is written to `path`. */
  cidfile?: { given: string; path: string };
  /** `run -i`: upload stdin as it is read and put `--stdin-artifact artifact:ID` at `index` (after the verb). */
  stdin?: { index: number };
}

const OUTPUT_VERBS = new Set(['save', 'image save', 'export', 'container export']);

/** Flags of run/create whose value is a local file the CLI uploads (each of them, repeated or not). */
const UPLOADED_RUN_FLAGS = ['--env-file', '--label-file'];

/**
 * The flags of run/create that take their value as the next word, so the CLI can tell a value
 * from the image. Kept here so the CLI starts without loading the commands; a unit test holds it
 * to CONTAINER_FLAGS and run's own flags.
 */
export const RUN_VALUE_FLAGS = new Set(
  (
    '--add-host --blkio-weight -c --cpu-shares --cap-add --cap-drop --cgroupns --cpu-period --cpu-quota --cpu-rt-period --cpu-rt-runtime --cpus --cpuset-cpus ' +
    '--cpuset-mems --device --dns --dns-opt --dns-option --dns-search -e --env --entrypoint --env-file --expose --group-add --health-cmd --health-interval ' +
    '--health-retries --health-start-period --health-timeout -h --hostname --ip --ip6 --ipc --kernel-memory -l --label --label-file --link --log-driver ' +
    '--log-opt --mac-address -m --memory --memory-reservation --memory-swap --memory-swappiness --mount --name --network --network-alias --pid --pids-limit ' +
    '--platform -p --publish --pull --restart --security-opt --shm-size --stop-signal --stop-timeout --sysctl --tmpfs -u --user --ulimit --userns --uts ' +
    '-v --volume --volumes-from -w --workdir -a --attach --blkio-weight-device --cgroup-parent --cidfile --detach-keys --device-cgroup-rule --device-read-bps ' +
    '--device-read-iops --device-write-bps --device-write-iops --domainname --gpus --isolation --link-local-ip --net --oom-score-adj --runtime --storage-opt ' +
    '--volume-driver --stdin-artifact'
  ).split(' '),
);
const INPUT_VERBS = new Set(['load', 'image load']);

function verbOf(words: string[]): { verb: string; rest: number } {
  const two = words.slice(0, 2).join(' ');
  if (OUTPUT_VERBS.has(two) || INPUT_VERBS.has(two) || two === 'container run' || two === 'container create') return { verb: two, rest: 2 };
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
  if (verb === 'login') {
    const i = words.indexOf('--password-stdin');
    if (i >= 0) {
      if (io.stdinIsTTY) return { args, error: 'Error: Cannot perform an interactive login from a non TTY device (pipe the password: echo $TOKEN | dockops docker login -u USER --password-stdin SERVER)' };
      args.splice(i, 1, '--password-artifact', 'artifact:pending');
      return { args, upload: { source: '-', index: i + 1, prefix: '' } };
    }
    return { args };
  }
  if (['run', 'create', 'container run', 'container create'].includes(verb)) {
    // --cidfile FILE: written here, on this machine, once the job names its container; never sent.
    let cidfile: FilePlan['cidfile'];
    for (let i = rest; i < args.length; i++) {
      const w = args[i];
      if (!w.startsWith('-') || w === '--') break;
      if (w === '--cidfile' && i + 1 < args.length) {
        cidfile = { given: args[i + 1], path: path.resolve(io.cwd, args[i + 1]) };
        args.splice(i, 2);
        i--;
      } else if (w.startsWith('--cidfile=')) {
        const given = w.slice('--cidfile='.length);
        cidfile = { given, path: path.resolve(io.cwd, given) };
        args.splice(i, 1);
        i--;
      } else if (RUN_VALUE_FLAGS.has(w)) i++;
    }
    // `--cidfile ""` writes no file, as with docker.
    if (cidfile?.given === '') cidfile = undefined;
    const plan = planRunUpload(args, rest, io.cwd, verb);
    // `run -i` (no -t, no -d): this process's stdin goes to the container's, uploaded as it is read.
    const stdin = verb.endsWith('run') && interactiveOnly(args, rest) ? { index: rest } : undefined;
    return { ...plan, ...(cidfile ? { cidfile } : {}), ...(stdin ? { stdin } : {}) };
  }
  if (verb === 'cp' || verb === 'container cp') {
    const pos: number[] = [];
    let follow = false;
    for (let i = rest; i < words.length; i++) {
      const w = words[i];
      if (w === '--') {
        for (let j = i + 1; j < words.length; j++) pos.push(j);
        break;
      }
      if (w.startsWith('-') && w !== '-') {
        if (/^-[a-zA-Z]*L/.test(w) || w === '--follow-link') follow = true;
        continue;
      }
      pos.push(i);
    }
    if (pos.length !== 2) return { args };
    const isCtr = (w: string) => /^[a-zA-Z0-9][a-zA-Z0-9_.-]*:/.test(w) && !w.startsWith('artifact:');
    const [a, b] = pos;
    if (isCtr(words[a]) && !isCtr(words[b])) {
      if (words[b] === '-') return { args, download: '-' };
      const base = path.basename(words[b]).replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^[._+-]+/, '') || 'copy';
      args[b] = base;
      return { args, download: '-tmp', extractTo: path.resolve(io.cwd, words[b]) };
    }
    if (!isCtr(words[a]) && isCtr(words[b]) && !words[a].startsWith('artifact:')) {
      if (words[a] === '-') {
        if (io.stdinIsTTY) return { args, error: 'requested copy from stdin, but stdin is empty' };
        args.splice(rest, 0, '--extract');
        return { args, upload: { source: '-', index: a + 1, prefix: '' } };
      }
      return { args, upload: { source: path.resolve(io.cwd, words[a]), index: a, prefix: '', tar: true, followLinks: follow } };
    }
    return { args };
  }
  if (verb === 'build' || (verb === 'image' && words[1] === 'build')) {
    const b = planBuild(words, verb === 'build' ? rest : 2);
    if (!b) return { args };
    if (b.given === '-') {
      if (b.file?.value === '-') return { args, error: "invalid argument: can't use stdin for both build context and dockerfile" };
      if (io.stdinIsTTY) return { args, error: 'dockops: the build context would come from stdin, but stdin is a terminal: pipe a tar (tar -c . | dockops docker build -t NAME -)' };
      return { args, upload: { source: '-', index: b.index, prefix: '' } };
    }
    return { args, build: b };
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

/** Short flags of run/create that take a value: in `-it` style groups, the rest of the word is that value. */
const SHORT_VALUE = new Set([...RUN_VALUE_FLAGS].filter((f) => /^-[a-zA-Z]$/.test(f)).map((f) => f[1]));

/** True when the flags (up to the image) ask for -i without -t or -d, as docker's pflag reads them. */
function interactiveOnly(args: string[], rest: number): boolean {
  const bool = (v: string) => ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
  const seen: Record<string, boolean> = { i: false, t: false, d: false };
  const long: Record<string, string> = { interactive: 'i', tty: 't', detach: 'd' };
  for (let i = rest; i < args.length; i++) {
    const w = args[i];
    if (w === '--' || !w.startsWith('-') || w === '-') break;
    if (w.startsWith('--')) {
      const [name, value] = w.slice(2).split(/=(.*)/s);
      if (long[name]) seen[long[name]] = value === undefined ? true : bool(value);
      else if (value === undefined && RUN_VALUE_FLAGS.has(`--${name}`)) i++;
      continue;
    }
    for (let k = 1; k < w.length; k++) {
      const c = w[k];
      if (c in seen) {
        if (w[k + 1] === '=') {
          seen[c] = bool(w.slice(k + 2));
          break;
        }
        seen[c] = true;
      } else if (SHORT_VALUE.has(c)) {
        if (k === w.length - 1) i++;
        break;
      }
    }
  }
  return seen.i && !seen.t && !seen.d;
}

/** --env-file / --label-file FILEs of run/create (all of them, as docker reads them all): upload each; the worker reads them, so their values never enter the job data. */
function planRunUpload(args: string[], rest: number, cwd: string, cmd: string): FilePlan {
  const runFiles: NonNullable<FilePlan['runFiles']> = [];
  for (let i = rest; i < args.length; i++) {
    const w = args[i];
    if (!w.startsWith('-')) break; // the image: flags end here
    const flag = UPLOADED_RUN_FLAGS.find((f) => w === f || w.startsWith(`${f}=`));
    if (flag && (w !== flag || i + 1 < args.length)) {
      const eqForm = w !== flag;
      const value = eqForm ? w.slice(flag.length + 1) : args[i + 1];
      if (!value.startsWith('artifact:')) runFiles.push({ source: path.resolve(cwd, value), given: value, cmd, index: eqForm ? i : i + 1, prefix: eqForm ? `${flag}=` : '' });
      if (!eqForm) i++;
      continue;
    }
    if (RUN_VALUE_FLAGS.has(w)) i++;
  }
  return runFiles.length ? { args, runFiles } : { args };
}

export function openSource(source: string): NodeJS.ReadableStream {
  return source === '-' ? process.stdin : createReadStream(source, { highWaterMark: 1 << 20 });
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

/** `tar -c` of a local path with its own name as the top entry (no shell: execFile's argv). */
export function tarOf(source: string, followLinks: boolean): NodeJS.ReadableStream {
  const p = spawn('tar', ['-c', ...(followLinks ? ['-h'] : []), '-f', '-', '-C', path.dirname(source), path.basename(source)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return p.stdout;
}

/**
 * Unpacks a tar downloaded from `cp CTR:SRC DEST` with docker's rules: into DEST when it is a
 * directory; as DEST (renamed) when DEST does not exist; over DEST when both are files.
 */
export async function extractCopy(tarFile: string, dest: string): Promise<string | undefined> {
  const run = (args: string[]) =>
    new Promise<number>((resolve) => {
      const p = spawn('tar', args, { stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('exit', (code) => resolve(code ?? 1));
    });
  const st = await stat(dest).catch(() => undefined);
  if (st?.isDirectory()) return (await run(['-x', '-f', tarFile, '-C', dest])) === 0 ? undefined : `could not unpack into ${dest}`;
  if (!st && dest.endsWith('/')) return `destination directory "${dest}" does not exist`;
  const parent = path.dirname(dest);
  const pst = await stat(parent).catch(() => undefined);
  if (!pst?.isDirectory()) return `destination directory "${parent}" does not exist`;
  const tmp = await mkdtemp(path.join(parent, '.dockops-cp-'));
  try {
    if ((await run(['-x', '-f', tarFile, '-C', tmp])) !== 0) return `could not unpack into ${dest}`;
    const [root] = await readdir(tmp);
    if (!root) return 'the copied archive is empty';
    const rst = await stat(path.join(tmp, root));
    if (st && rst.isDirectory()) return `cannot copy a directory to a file: ${dest}`;
    await rename(path.join(tmp, root), dest);
    return undefined;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
