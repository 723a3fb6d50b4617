/**
 * The few coded errors of dockops, each carrying the exit code the docker CLI would give.
 * Doors render them in one place (a 4xx with the message, or the CLI's stderr and exit code).
 */
export type ErrorCode = 'usage' | 'unknown_command' | 'policy' | 'docker' | 'unavailable' | 'not_found';

export class DockopsError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
    /** Exit code the docker CLI gives for the same failure. */
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command text: unknown flag, wrong argument count, unbalanced quotes. docker exits 125. */
export class UsageError extends DockopsError {
  constructor(message: string, exitCode = 125, code: ErrorCode = 'usage') {
    super(message, code, exitCode);
  }
}

/** The policy refuses the command. Refused before anything runs, like a usage error: 125. */
export class PolicyError extends DockopsError {
  constructor(message: string) {
    super(message, 'policy', 125);
  }
}

/** The Docker engine refused or failed. `docker` prints "Error response from daemon: …". */
export class DockerError extends DockopsError {
  constructor(message: string, exitCode = 1, readonly statusCode?: number) {
    super(message, 'docker', exitCode);
  }
}

/** A dependency (Redis, the engine) cannot be reached. */
export class UnavailableError extends DockopsError {
  constructor(message: string) {
    super(message, 'unavailable', 1);
  }
}

/** Turns a dockerode/docker-modem error into the daemon's own message. */
export function daemonMessage(err: unknown): string {
  const e = err as { json?: { message?: string } | string; reason?: string; message?: string; code?: string };
  if (e && typeof e.json === 'object' && e.json?.message) return e.json.message;
  if (e && typeof e.json === 'string' && e.json.trim()) {
    try {
      const parsed = JSON.parse(e.json) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      return e.json.trim();
    }
  }
  // docker-modem wraps a streamed endpoint's error: "(HTTP code 404) unexpected - <message> ".
  const wrapped = /^\(HTTP code \d+\) [^-]*- ([\s\S]*?)\s*$/.exec(e?.message ?? '');
  if (wrapped) return wrapped[1];
  if (e?.code === 'ENOENT' || e?.code === 'ECONNREFUSED') {
    return `Cannot connect to the Docker daemon (${e.message}). Is the docker daemon running?`;
  }
  return e?.message ?? String(err);
}

/** Docker CLI wording for an engine failure, with the status code kept for exit-code mapping. */
export function toDockerError(err: unknown, exitCode = 1): DockerError | UnavailableError {
  if (err instanceof DockerError || err instanceof UnavailableError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  // No answer at all from the engine: the job could not run, which is not a docker answer.
  if (!e?.statusCode && (['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(e?.code ?? '') || /socket hang up/.test(e?.message ?? ''))) {
    // Node says "aborted" when the engine closes a connection in the middle of its answer (it stopped).
    const why = e.message === 'aborted' ? 'it closed the connection in the middle of its answer' : (e.message ?? e.code);
    return new UnavailableError(`Cannot connect to the Docker daemon: ${why}. Is the docker daemon running?`);
  }
  const msg = daemonMessage(err);
  if (e?.statusCode) return new DockerError(`Error response from daemon: ${msg}`, exitCode, e.statusCode);
  return new DockerError(msg, exitCode);
}

/**
 * docker (20.10) words a missing object as "Error: No such container: NAME" rather than passing
 * the daemon's text through; other failures keep the daemon's words.
 */
export function notFoundOr(err: unknown, what: 'container' | 'image' | 'volume' | 'network', name: string): DockerError | UnavailableError {
  if ((err as { statusCode?: number })?.statusCode === 404) return new DockerError(`Error: No such ${what}: ${name}`, 1, 404);
  return toDockerError(err);
}
