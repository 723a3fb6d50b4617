import { execFile } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A build context given as a git URL: `https://host/repo.git#ref:dir`. */
export interface GitContext {
  /** The repository URL without the fragment. */
  url: string;
  /** Branch, tag or commit; undefined: the remote's HEAD. */
  ref?: string;
  /** Sub-directory of the repository that is the context; undefined: the root. */
  dir?: string;
}

/**
 * True for what docker calls a git URL (git@…, git://…, an http(s) URL ending in .git), plus
 * ssh:// and file:// forms.
 */
export function isGitUrl(s: string): boolean {
  if (/^(git@|git:\/\/|ssh:\/\/|file:\/\/)/.test(s)) return true;
  if (/^https?:\/\//.test(s)) return /\.git(#.*)?$/.test(s);
  return false;
}

/** Splits `URL#ref:dir` and checks ref and dir are plain (no options, no escape from the repo). */
export function parseGitContext(s: string): GitContext {
  const hash = s.indexOf('#');
  const url = hash >= 0 ? s.slice(0, hash) : s;
  const frag = hash >= 0 ? s.slice(hash + 1) : '';
  const colon = frag.indexOf(':');
  const ref = (colon >= 0 ? frag.slice(0, colon) : frag) || undefined;
  const dir = (colon >= 0 ? frag.slice(colon + 1) : '') || undefined;
  if (!url || url.startsWith('-')) throw new Error(`invalid git URL: ${s}`);
  if (ref !== undefined && (!/^[A-Za-z0-9._/@+-]+$/.test(ref) || ref.startsWith('-') || ref.includes('..'))) {
    throw new Error(`invalid git reference "${ref}" in ${s}`);
  }
  if (dir !== undefined && (isAbsolute(dir) || dir.split('/').includes('..'))) {
    throw new Error(`invalid sub-directory "${dir}" in ${s}: it must be a relative path inside the repository`);
  }
  return { url, ref, dir };
}

async function git(args: string[], cwd: string, signal?: AbortSignal): Promise<void> {
  await run('git', ['-c', 'protocol.ext.allow=never', '-c', 'advice.detachedHead=false', ...args], {
    cwd,
    signal,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/**
 * Fetches the repository at the ref into a new temporary directory (git run with execFile, no
 * shell), gives the context directory to `use`, and always removes the directory afterwards.
 */
export async function withGitContext<T>(g: GitContext, use: (contextDir: string, tmp: string) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const tmp = await mkdtemp(join(tmpdir(), 'dockops-build-'));
  try {
    const repo = join(tmp, 'repo');
    try {
      await git(['init', '-q', repo], tmp, signal);
      await git(['remote', 'add', 'origin', g.url], repo, signal);
      const ref = g.ref ?? 'HEAD';
      try {
        await git(['fetch', '-q', '--depth', '1', 'origin', ref], repo, signal);
        await git(['checkout', '-q', 'FETCH_HEAD'], repo, signal);
      } catch {
        // A commit id the remote will not serve shallow: fetch everything, then check it out.
        await git(['fetch', '-q', 'origin'], repo, signal);
        await git(['checkout', '-q', ref], repo, signal);
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      const e = err as { stderr?: string; message?: string };
      const lines = (e.stderr || e.message || String(err)).trim().split('\n').filter(Boolean);
      const why = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.pop();
      throw new Error(`unable to prepare context: unable to 'git clone' to temporary context directory: ${why}`);
    }
    let dir = repo;
    if (g.dir) {
      dir = resolve(repo, g.dir);
      let real: string;
      try {
        real = await realpath(dir);
      } catch {
        throw new Error(`unable to prepare context: path "${g.dir}" not found in the repository`);
      }
      const rel = relative(await realpath(repo), real);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`unable to prepare context: "${g.dir}" is outside the repository`);
      dir = real;
    }
    return await use(dir, tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
