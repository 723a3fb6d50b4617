import type { z } from 'zod';
import type { FlagDef, Parsed } from './parse.js';
import type { JobResult, RunContext } from '../jobs/types.js';

/** What a door knows when it turns words into a spec (the clock, for `--since 10m`). */
export interface SpecEnv {
  now(): number;
}

/**
 * Everything about one verb, in one file (as docker/cli's `cli/command/<object>/<verb>.go`):
 * usage, flags, how parsed words become a JobSpec, and how the worker runs it.
 */
export interface Command<S extends { kind: string } = { kind: string }> {
  /** Canonical path after `docker`: ['image', 'ls']. */
  path: string[];
  /** Other paths to the same verb: [['images'], ['image', 'list']]. */
  aliases?: string[][];
  /** Usage after `docker <path> `: "[OPTIONS] [REPOSITORY[:TAG]]". */
  usage: string;
  summary: string;
  flags: FlagDef[];
  args: { min: number; max?: number };
  /** false: the first positional argument ends the flags (run, exec). */
  interspersed?: boolean;
  /** Deletes or stops things: doors ask for confirmation where they can. */
  destructive?: boolean;
  /** The answer is for the asker only: Slack shows it ephemerally, never in the channel or a thread. */
  private?: boolean;
  /** The JobSpec schema of this verb: a zod object with a literal `kind`. */
  spec: z.ZodType<S>;
  toSpec(parsed: Parsed, env: SpecEnv): S;
  run(spec: S, ctx: RunContext): Promise<JobResult>;
}

/** Declares a verb; the identity function that gives the command its types. */
export function defineCommand<S extends { kind: string }>(cmd: Command<S>): Command<S> {
  return cmd;
}

/** A result with docker-CLI text and exit code 0. */
export function ok(stdout: string, data?: unknown): JobResult {
  return { exitCode: 0, stdout, stderr: '', streamed: false, truncated: false, data };
}
