import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, JobSpec, parseCommand } from '../../src/commands/index.js';
import { checkPolicy } from '../../src/policy/index.js';
import { DockopsError } from '../../src/errors.js';
import type { RunPolicy } from '../../src/config.js';
import type { FlagDef } from '../../src/commands/parse.js';
import { blockActionObject } from './slack.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * What a refusal must look like to a person: a message with words in it, about their input, not
 * a stack trace or a leaked internal value.
 */
export function clearMessageProblem(message: unknown): string | undefined {
  if (typeof message !== 'string') return `message is ${typeof message}, not text`;
  if (message.trim().length < 8) return `message "${message}" is too short to act on`;
  if (/\n\s+at \S/.test(message) || /(node:internal\/|file:\/\/|\/)[^\s()]*\.(ts|js|mjs|cjs):\d+:\d+/.test(message)) return `message holds a stack trace: ${message.slice(0, 300)}`;
  if (/\[object Object\]|\bundefined\b|\bNaN\b|TypeError|ReferenceError|Cannot read propert/.test(message)) return `message leaks an internal value: ${message.slice(0, 300)}`;
  return undefined;
}

/** Pieces of shell and lookalike syntax, traversal and dangerous docker options. */
export const HOSTILE_PIECES = [
  ';', '$(id)', '`id`', '&&', '||', '|', '>', '<', '&', '\n', '\r\n', '\t', '\u0000', '\u0007', '\u001b[31m', '\u007f',
  '\uff1b', '\uff04(id)', '\uff5c', '\u037e', '\u202e', '\u200b', '\u200d', '\ufeff', '\u2028', '\ud83d\ude00', '\u201c', '\u201d', '\u2018', '\u2019',
  "'", '"', '\\', '${HOME}', '$HOME', '*', '~', '#', '!', '%s', '%n', '{{.}}', '{{json .}}', '{{range .}}',
  '../../etc/passwd', '..', '/', '//', 'artifact:../x', 'artifact:', 'artifact:0123456789abcdef01234567',
  '-v', '/:/host', '/var/run/docker.sock:/s', '--mount', 'type=bind,src=/etc,dst=/x', 'type=volume,src=x,dst=/y,volume-opt=device=/etc',
  '--privileged', '--privileged=true', '--privileged=1', '--privileged=false', '--network=host', '--network', 'host', 'container:x', '--pid', '--cap-add=ALL',
  '--', '-', '--=', '-=', '--host', '-H', '--host=', '--help', '-h', '--format', '-f', '-it', '-e', 'A=B', '--rm', '-d', '-p', '127.0.0.1:8080:80', '0:0:0:0',
  'busybox', 'busybox:latest', 'localhost:5000/x', 'sha256:' + '0'.repeat(64), 'a'.repeat(300), '-1', '99999999999999999999', '1e309', '0x10',
];

const VERB_PATHS = COMMANDS.flatMap((c) => [c.path, ...(c.aliases ?? [])].map((p) => p.join(' ')));

/** A flag of a verb written as a person might: --name=v, --name v, -s v, -sv, or bare. */
function flagWords(f: FlagDef, value: string, style: number): string[] {
  if (f.type === 'bool') return style % 2 ? [`--${f.name}=${value}`] : f.short ? [`-${f.short}`] : [`--${f.name}`];
  if (style === 0 || !f.short) return [`--${f.name}=${value}`];
  if (style === 1) return [`--${f.name}`, value];
  return style === 2 ? [`-${f.short}`, value] : [`-${f.short}${value}`];
}

const piece = fc.oneof(fc.constantFrom(...HOSTILE_PIECES), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }));

/** Words of a known verb with a mix of its own flags (hostile values) and hostile arguments. */
export const verbWords: fc.Arbitrary<string[]> = fc.integer({ min: 0, max: COMMANDS.length - 1 }).chain((ci) => {
  const cmd = COMMANDS[ci];
  const paths = [cmd.path, ...(cmd.aliases ?? [])];
  const flag = cmd.flags.length ? fc.tuple(fc.constantFrom(...cmd.flags), piece, fc.integer({ min: 0, max: 3 })).map(([f, v, s]) => flagWords(f, v, s)) : fc.constant([] as string[]);
  return fc
    .tuple(fc.constantFrom(...paths), fc.array(fc.oneof(flag, piece.map((p) => [p])), { maxLength: 8 }), fc.boolean())
    .map(([p, parts, withHost]) => [...(withHost ? ['--host', 'local'] : []), ...p, ...parts.flat()]);
});

/** Any words at all: known verbs first or not, hostile pieces, random unicode. */
export const anyWords: fc.Arbitrary<string[]> = fc.oneof(
  verbWords,
  fc.array(fc.oneof(fc.constantFrom(...VERB_PATHS), piece), { maxLength: 10 }),
  fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 6 }),
);

/** Commands a person would type, with a hostile piece or two: many are accepted, which the properties need. */
export const plausibleText: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('ps', 'ps -a', 'images', 'version', 'info', 'volume ls', 'network ls', 'run --rm busybox echo hi', 'run -d --name x busybox sleep 1', 'create busybox', 'volume create', 'logs c', 'exec c ls'), fc.array(piece, { maxLength: 2 }))
  .map(([c, extra]) => [c, ...extra].join(' '));

/** Text a person (or an attacker) might type: hostile pieces joined by spaces, or raw unicode. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  plausibleText,
  anyWords.map((w) => w.join(' ')),
  fc.array(piece, { maxLength: 12 }).map((w) => w.join('')),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

export interface CorpusLine {
  line: number;
  text: string;
}

/**
 * test/corpus/injection.txt: one attempt per line; `#` comments; escapes `\n`, `\r`, `\t`, `\0`,
 * `\uXXXX` and `\\` let a line hold characters a text file cannot; `<1MB:x>` expands to 1 MiB of x.
 */
export function injectionCorpus(): CorpusLine[] {
  const raw = readFileSync(path.join(HERE, '../corpus/injection.txt'), 'utf8');
  const out: CorpusLine[] = [];
  raw.split('\n').forEach((l, i) => {
    if (!l.trim() || l.startsWith('#')) return;
    const text = l
      .replace(/<1MB:(.)>/g, (_m, c: string) => c.repeat(1024 * 1024))
      .replace(/\\(u[0-9a-fA-F]{4}|[nrt0\\])/g, (_m, e: string) => (e[0] === 'u' ? String.fromCharCode(parseInt(e.slice(1), 16)) : ({ n: '\n', r: '\r', t: '\t', '0': '\u0000', '\\': '\\' } as Record<string, string>)[e]));
    out.push({ line: i + 1, text });
  });
  return out;
}

/** The policy the hostile tests hold inputs to: the defaults, with one allowed bind directory. */
export const POLICY: RunPolicy = { allowPrivileged: false, allowHostNamespaces: false, allowCapAdd: false, bindAllowlist: ['/srv/dockops'] };

/** What must never be true of a spec the default policy lets through. */
export function unsafeSpecProblem(spec: JobSpec): string | undefined {
  const s = spec as Record<string, unknown> & { kind: string };
  if (s.kind === 'container.run' || s.kind === 'container.create') {
    const c = spec as Extract<JobSpec, { kind: 'container.run' }>;
    if (c.privileged) return 'privileged container accepted';
    if (c.capAdd.length) return `cap-add ${c.capAdd.join(',')} accepted`;
    if (c.network === 'host' || c.network?.startsWith('container:')) return `network ${c.network} accepted`;
    const x = c.extras ?? {};
    for (const [flag, mode] of Object.entries({ pid: x.PidMode, ipc: x.IpcMode, uts: x.UTSMode, userns: x.UsernsMode, cgroupns: x.CgroupnsMode })) {
      if (mode === 'host') return `--${flag} host accepted`;
    }
    if (x.Devices?.length) return `device ${x.Devices.map((d) => d.PathOnHost).join(',')} accepted`;
    const sec = (x.SecurityOpt ?? []).filter((o) => !/^no-new-privileges([:=].*)?$/.test(o));
    if (sec.length) return `security-opt ${sec.join(',')} accepted`;
    for (const m of c.mounts) {
      if (m.type === 'bind' && !(path.posix.normalize(m.source) + '/').startsWith('/srv/dockops/')) return `bind mount of ${m.source} accepted`;
    }
  }
  if (s.kind === 'container.exec' && (s as { privileged?: boolean }).privileged) return 'exec --privileged accepted';
  if (s.kind === 'volume.create') {
    const o = (s as { options?: Record<string, string> }).options ?? {};
    if (o.device !== undefined && o.type !== 'tmpfs' && !(/(^|,)bind(,|$)/.test(o.o ?? '') && (path.posix.normalize(o.device) + '/').startsWith('/srv/dockops/'))) {
      return `volume with device=${o.device} type=${o.type} o=${o.o} accepted`;
    }
  }
  return undefined;
}

/** Runs one input through parse + policy, as every door does; returns a problem or undefined. */
export function throughParseAndPolicy(input: string | string[]): string | undefined {
  try {
    const o = parseCommand(input);
    if (o.type === 'help') return o.text.trim() ? undefined : 'empty help';
    if (!JobSpec.safeParse(o.spec).success) return `spec fails the JobSpec schema: ${JSON.stringify(o.spec).slice(0, 200)}`;
    checkPolicy(o.spec, POLICY);
    return unsafeSpecProblem(o.spec);
  } catch (err) {
    if (!(err instanceof DockopsError)) return `threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.stack ?? err}`;
    if (err.code !== 'usage' && err.code !== 'unknown_command' && err.code !== 'policy') return `refused with code ${err.code}`;
    return clearMessageProblem(err.message);
  }
}

/** How many inputs each property through the real process tries (DOCKOPS_FUZZ_E2E_RUNS). */
export const E2E_RUNS = Number(process.env.DOCKOPS_FUZZ_E2E_RUNS ?? 200);

/** fc.assert, with the failing assertion's own message in the report. */
export async function checkProperty<T>(prop: fc.IAsyncPropertyWithHooks<T>, params: fc.Parameters<T> = {}) {
  try {
    await fc.assert(prop, { numRuns: E2E_RUNS, ...params });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${((err as Error).cause as Error | undefined)?.message ?? ''}`);
  }
}

/**
 * A block_actions payload as Slack sends it when a button is clicked, as an object: `drop` leaves
 * keys out (dotted paths: `user.id`), `set` replaces them with anything (junk included).
 */
export function blockActionPayload(o: { actionId: string; value: unknown; user?: string; channel?: string; responseUrl: string; drop?: string[]; set?: Record<string, unknown> }): Record<string, unknown> {
  const p = blockActionObject(o);
  const at = (key: string) => {
    const parts = key.split('.');
    let obj: Record<string, unknown> = p;
    for (const k of parts.slice(0, -1)) {
      const next = obj[k];
      if (typeof next !== 'object' || next === null) return undefined;
      obj = next as Record<string, unknown>;
    }
    return { obj, k: parts[parts.length - 1] };
  };
  for (const key of o.drop ?? []) {
    const t = at(key);
    if (t) delete t.obj[t.k];
  }
  for (const [key, v] of Object.entries(o.set ?? {})) {
    const t = at(key);
    if (t) t.obj[t.k] = v;
  }
  return p;
}

/** The form body of an interactivity request: `payload` is JSON-encoded unless given as a string. */
export function interactiveBody(payload: unknown): string {
  return new URLSearchParams({ payload: typeof payload === 'string' ? payload : JSON.stringify(payload) ?? 'undefined' }).toString();
}

/**
 * An HTTP request through node:http, for what fetch cannot send: a body broken off after
 * `abortAfter` bytes (the socket is destroyed), a declared Content-Length the body does not
 * keep, a chunked body of any size. Resolves with the answer, or `{ aborted: true }`.
 */
export function rawRequest(url: string, o: { method?: string; headers?: Record<string, string>; body?: Buffer; abortAfter?: number; chunked?: boolean }): Promise<{ aborted: true } | { aborted: false; status: number; text: string; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const body = o.body ?? Buffer.alloc(0);
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: Awaited<ReturnType<typeof rawRequest>>) => {
      if (!settled) resolve(v);
      settled = true;
    };
    const req = http.request(url, { agent: false, method: o.method ?? 'POST', headers: { ...(o.chunked ? {} : { 'content-length': String(body.length) }), ...o.headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('error', () => done({ aborted: true }));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        done({ aborted: false, status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('error', () => done({ aborted: true }));
    if (o.abortAfter !== undefined) {
      req.write(body.subarray(0, o.abortAfter), () => setTimeout(() => {
        req.destroy();
        done({ aborted: true });
      }, 20));
      return;
    }
    // Written in pieces, as a slow client would: a server that answers early (413) may close first.
    for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
    req.end();
  });
}

/**
 * What in a process's output is an internal error: a pino line at level error or fatal, a stack,
 * or Node's own report of an unhandled rejection or exception (on stderr).
 */
export function internalErrors(stdout: string, stderr: string): string[] {
  const fromLog = stdout.split('\n').filter((l) => /"level":(5\d|60)\b|"stack":|\\n\s+at \S/.test(l));
  const fromNode = stderr.split('\n').filter((l) => /Unhandled|uncaught|Error:|^\s+at \S|triggerUncaughtException/i.test(l));
  return [...fromLog, ...fromNode].map((l) => l.slice(0, 400));
}
