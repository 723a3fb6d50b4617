import { z } from 'zod';
import type { Command } from './define.js';
import { parseFlags, flagHelp, seeHelp } from './parse.js';
import { tokenize } from './tokenize.js';
import { UsageError } from '../errors.js';
import type { SpecEnv } from './define.js';
import { version, VersionSpec } from './system/version.js';
import { info, InfoSpec } from './system/info.js';
import { imageLs, ImageLsSpec } from './image/ls.js';
import { imagePull, ImagePullSpec } from './image/pull.js';
import { imageTag, ImageTagSpec } from './image/tag.js';
import { imageInspect, ImageInspectSpec } from './image/inspect.js';
import { imageHistory, ImageHistorySpec } from './image/history.js';
import { imageRm, ImageRmSpec } from './image/rm.js';
import { imagePrune, ImagePruneSpec } from './image/prune.js';
import { containerRun, ContainerRunSpec } from './container/run.js';
import { containerLs, ContainerLsSpec } from './container/ls.js';
import { containerLogs, ContainerLogsSpec } from './container/logs.js';
import { containerCreate, ContainerCreateSpec } from './container/create.js';
import { containerStart, ContainerStartSpec } from './container/start.js';
import { containerStop, ContainerStopSpec } from './container/stop.js';
import { containerKill, ContainerKillSpec } from './container/kill.js';
import { containerRestart, ContainerRestartSpec } from './container/restart.js';
import { containerPause, ContainerPauseSpec } from './container/pause.js';
import { containerUnpause, ContainerUnpauseSpec } from './container/unpause.js';
import { containerWait, ContainerWaitSpec } from './container/wait.js';
import { containerRm, ContainerRmSpec } from './container/rm.js';
import { containerPrune, ContainerPruneSpec } from './container/prune.js';
import { containerRename, ContainerRenameSpec } from './container/rename.js';
import { containerInspect, inspect, ContainerInspectSpec } from './container/inspect.js';
import { containerTop, ContainerTopSpec } from './container/top.js';
import { containerDiff, ContainerDiffSpec } from './container/diff.js';
import { containerPort, ContainerPortSpec } from './container/port.js';

import { volumeCreate, VolumeCreateSpec } from './volume/create.js';
import { volumeLs, VolumeLsSpec } from './volume/ls.js';
import { volumeInspect, VolumeInspectSpec } from './volume/inspect.js';
import { volumeRm, VolumeRmSpec } from './volume/rm.js';
import { volumePrune, VolumePruneSpec } from './volume/prune.js';
import { networkCreate, NetworkCreateSpec } from './network/create.js';
import { networkLs, NetworkLsSpec } from './network/ls.js';
import { networkInspect, NetworkInspectSpec } from './network/inspect.js';
import { networkRm, NetworkRmSpec } from './network/rm.js';
import { networkConnect, NetworkConnectSpec } from './network/connect.js';
import { networkDisconnect, NetworkDisconnectSpec } from './network/disconnect.js';
import { networkPrune, NetworkPruneSpec } from './network/prune.js';
import { imageSave, ImageSaveSpec } from './image/save.js';
import { imageLoad, ImageLoadSpec } from './image/load.js';
import { containerExport, ContainerExportSpec } from './container/export.js';
import { imageImport, ImageImportSpec } from './image/import.js';
import { containerCp, ContainerCpSpec } from './container/cp.js';
import { imagePush, ImagePushSpec } from './image/push.js';
import { imageBuild, ImageBuildSpec } from './image/build.js';
import { search, SearchSpec } from './system/search.js';
import { systemPrune, SystemPruneSpec } from './system/prune.js';
import { autobuild, AutobuildSpec } from './builds/autobuild.js';
import { containerExec, ContainerExecSpec } from './container/exec.js';
import { containerStats, ContainerStatsSpec } from './container/stats.js';
import { containerUpdate, ContainerUpdateSpec } from './container/update.js';
import { containerCommit, ContainerCommitSpec } from './container/commit.js';
import { systemDf, SystemDfSpec } from './system/df.js';
import { systemEvents, SystemEventsSpec } from './system/events.js';
import { login, LoginSpec, logout, LogoutSpec } from './registry/login.js';
import { volumeBackup, VolumeBackupSpec } from './volume/backup.js';
import { volumeRestore, VolumeRestoreSpec } from './volume/restore.js';
import { backupLs, BackupLsSpec } from './backup/ls.js';
import { backupInspect, BackupInspectSpec } from './backup/inspect.js';
import { backupVerify, BackupVerifySpec } from './backup/verify.js';
import { backupRm, BackupRmSpec } from './backup/rm.js';
import { backupPrune, BackupPruneSpec } from './backup/prune.js';
import { scheduleLs, ScheduleLsSpec, scheduleRun, ScheduleRunSpec, schedulePause, SchedulePauseSpec, scheduleResume, ScheduleResumeSpec, scheduleReload, ScheduleReloadSpec } from './schedule/schedule.js';
import { audit, AuditSpec } from './dockops/audit.js';
import { hosts, HostsSpec } from './dockops/hosts.js';
import { buildsPreview, BuildsPreviewSpec } from './builds/preview.js';
import { buildsLs, BuildsLsSpec } from './builds/ls.js';
import { buildsLogs, BuildsLogsSpec } from './builds/logs.js';
/** Every verb dockops knows, one per line (branches add lines without touching each other). */
export const COMMANDS: Command<any>[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  version,
  info,
  imageLs,
  imagePull,
  containerRun,
  containerLs,
  containerLogs,
  containerCreate,
  containerStart,
  containerStop,
  containerKill,
  containerRestart,
  containerPause,
  containerUnpause,
  containerWait,
  containerRm,
  containerPrune,
  containerRename,
  containerInspect,
  inspect,
  containerTop,
  containerDiff,
  containerPort,
  imageTag,
  imageInspect,
  imageHistory,
  imageRm,
  imagePrune,
  volumeCreate,
  volumeLs,
  volumeInspect,
  volumeRm,
  volumePrune,
  networkCreate,
  networkLs,
  networkInspect,
  networkRm,
  networkConnect,
  networkDisconnect,
  networkPrune,
  imageSave,
  imageLoad,
  containerExport,
  imageImport,
  containerCp,
  imagePush,
  imageBuild,
  search,
  systemPrune,
  autobuild,
  containerExec,
  containerStats,
  containerUpdate,
  containerCommit,
  systemDf,
  systemEvents,
  login,
  logout,
  volumeBackup,
  volumeRestore,
  backupLs,
  backupInspect,
  backupVerify,
  backupRm,
  backupPrune,
  scheduleLs,
  scheduleRun,
  schedulePause,
  scheduleResume,
  scheduleReload,
  audit,
  hosts,
  buildsPreview,
  buildsLs,
  buildsLogs,
];

/** What travels through Redis: one closed union, parsed again in the worker. */
export const JobSpec = z.discriminatedUnion('kind', [
  VersionSpec,
  InfoSpec,
  ImageLsSpec,
  ImagePullSpec,
  ContainerRunSpec,
  ContainerLsSpec,
  ContainerLogsSpec,
  ContainerCreateSpec,
  ContainerStartSpec,
  ContainerStopSpec,
  ContainerKillSpec,
  ContainerRestartSpec,
  ContainerPauseSpec,
  ContainerUnpauseSpec,
  ContainerWaitSpec,
  ContainerRmSpec,
  ContainerPruneSpec,
  ContainerRenameSpec,
  ContainerInspectSpec,
  ContainerTopSpec,
  ContainerDiffSpec,
  ContainerPortSpec,
  ImageTagSpec,
  ImageInspectSpec,
  ImageHistorySpec,
  ImageRmSpec,
  ImagePruneSpec,
  VolumeCreateSpec,
  VolumeLsSpec,
  VolumeInspectSpec,
  VolumeRmSpec,
  VolumePruneSpec,
  NetworkCreateSpec,
  NetworkLsSpec,
  NetworkInspectSpec,
  NetworkRmSpec,
  NetworkConnectSpec,
  NetworkDisconnectSpec,
  NetworkPruneSpec,
  ImageSaveSpec,
  ImageLoadSpec,
  ContainerExportSpec,
  ImageImportSpec,
  ContainerCpSpec,
  ImagePushSpec,
  ImageBuildSpec,
  SearchSpec,
  SystemPruneSpec,
  AutobuildSpec,
  ContainerExecSpec,
  ContainerStatsSpec,
  ContainerUpdateSpec,
  ContainerCommitSpec,
  SystemDfSpec,
  SystemEventsSpec,
  LoginSpec,
  LogoutSpec,
  VolumeBackupSpec,
  VolumeRestoreSpec,
  BackupLsSpec,
  BackupInspectSpec,
  BackupVerifySpec,
  BackupRmSpec,
  BackupPruneSpec,
  ScheduleLsSpec,
  ScheduleRunSpec,
  SchedulePauseSpec,
  ScheduleResumeSpec,
  ScheduleReloadSpec,
  AuditSpec,
  HostsSpec,
  BuildsPreviewSpec,
  BuildsLsSpec,
  BuildsLogsSpec,
]);
export type JobSpec = z.infer<typeof JobSpec>;

const byKind = new Map<string, Command<any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
const byPath = new Map<string, Command<any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
for (const c of COMMANDS) {
  byPath.set(c.path.join(' '), c);
  for (const a of c.aliases ?? []) byPath.set(a.join(' '), c);
  const kind = (c.spec as unknown as z.ZodObject<{ kind: z.ZodLiteral<string> }>).shape.kind.value;
  byKind.set(kind, c);
}

/** The command that runs a spec of this kind. */
export function commandForKind(kind: string): Command<any> | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
  return byKind.get(kind);
}

/** The outcome of reading a command line: a spec to enqueue, or help text to print at once. */
export type ParseOutcome =
  | { type: 'spec'; spec: JobSpec; command: Command<any>; path: string; host?: string } // eslint-disable-line @typescript-eslint/no-explicit-any
  | { type: 'help'; text: string };

const MANAGEMENT = ['container', 'image', 'system', 'volume', 'network', 'backup', 'schedule', 'builds'];

/** `docker volume` / `docker volume --help`: the group's commands, as cobra lists them. */
export function groupHelp(group: string): string {
  const rows = COMMANDS.filter((c) => c.path[0] === group && c.path.length > 1).map((c) => `  ${c.path.slice(1).join(' ').padEnd(12)} ${c.summary}`);
  return `\nUsage:  docker ${group} COMMAND\n\nManage ${group === 'backup' ? 'volume backups' : group.endsWith('s') ? group : `${group}s`}\n\nCommands:\n${rows.join('\n')}\n\nRun 'docker ${group} COMMAND --help' for more information on a command.\n`;
}

/** Top-level help: the verbs dockops runs, as `docker --help` lists them. */
export function topHelp(): string {
  const rows = [...byPath.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([p, c]) => `  ${p.padEnd(18)} ${c.summary}`);
  return `Usage:  docker [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers, run by dockops\n\nCommands:\n${rows.join('\n')}\n\nRun 'docker COMMAND --help' for more information on a command.\n`;
}

/** `docker <path> --help` text, laid out as cobra prints it. */
export function commandHelp(c: Command<any>, path: string): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const aliases = [c.path, ...(c.aliases ?? [])].map((a) => `docker ${a.join(' ')}`);
  return (
    `\nUsage:  docker ${path} ${c.usage}\n\n${c.summary}\n` +
    (aliases.length > 1 ? `\nAliases:\n  ${aliases.join(', ')}\n` : '') +
    `\nOptions:\n${flagHelp(c.flags)}\n`
  );
}

/**
 * Turns a command line (or words already split by a shell) into a validated JobSpec, with
 * docker's own wording and exit codes for every mistake.
 */
/** Zod's issues with a spec, in words a person can act on. */
function specProblem(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => {
      const where = i.path.filter((p) => typeof p === 'string').join('.') || 'the command';
      if (i.code === 'too_small' && i.origin === 'string') return `an empty value ("") is not a valid ${where}`;
      return `invalid ${where}: ${i.message}`;
    })
    .join('; ');
}

export function parseCommand(input: string | string[], env: SpecEnv = { now: Date.now }): ParseOutcome {
  const words = Array.isArray(input) ? [...input] : tokenize(input);
  if (Array.isArray(input)) {
    const size = words.reduce((n, w) => n + Buffer.byteLength(w) + 1, 0);
    if (size > 8 * 1024) throw new UsageError(`command is too long: ${size} bytes (limit 8192)`);
    // The same rule as typed text: no control characters (NUL, ESC…) in any word.
    // eslint-disable-next-line no-control-regex
    const ctl = words.map((w) => /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(w)).find(Boolean);
    if (ctl) throw new UsageError(`command contains a control character (U+${ctl[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}); remove it`);
    if (words[0] === 'docker') words.shift();
  }
  // The global `--host NAME` (or -H) picks the Docker host, as `docker -H` picks the daemon.
  let host: string | undefined;
  while (words[0] === '--host' || words[0] === '-H' || words[0]?.startsWith('--host=')) {
    const w = words.shift() as string;
    host = w.startsWith('--host=') ? w.slice('--host='.length) : words.shift();
    if (!host || !/^[a-z0-9][a-z0-9_-]{0,31}$/.test(host)) throw new UsageError(`--host needs a host name (one of the configured DOCKOPS_DOCKER_HOSTS), not "${host ?? ''}"\nSee 'docker --help'.`);
  }
  if (['attach'].includes(words[0]) || (words[0] === 'container' && words[1] === 'attach')) {
    throw new UsageError("docker attach needs a terminal, and chat has none. Use `exec CONTAINER CMD` for one command, or `logs -f --for 2m CONTAINER` to watch its output.", 1);
  }
  if (words.length === 0 || words[0] === '--help' || words[0] === '-h' || words[0] === 'help') {
    if (words.length === 0) throw new UsageError(`no command given: type a docker command, for example "ps -a"\nSee 'docker --help'.`, 1);
    return { type: 'help', text: topHelp() };
  }
  let cmd: Command<any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  let depth = 0;
  for (const d of [2, 1]) {
    const key = words.slice(0, d).join(' ');
    if (words.length >= d && byPath.has(key)) {
      cmd = byPath.get(key);
      depth = d;
      break;
    }
  }
  if (!cmd) {
    if (MANAGEMENT.includes(words[0]) && (words.length === 1 || words[1] === '--help' || words[1] === '-h')) return { type: 'help', text: groupHelp(words[0]) };
    if (MANAGEMENT.includes(words[0]) && words.length > 1 && !words[1].startsWith('-')) {
      throw new UsageError(`docker: '${words[0]} ${words[1]}' is not a docker command.\nSee 'docker ${words[0]} --help'`, 1, 'unknown_command');
    }
    throw new UsageError(`docker: '${words[0]}' is not a docker command.\nSee 'docker --help'`, 1, 'unknown_command');
  }
  const path = words.slice(0, depth).join(' ');
  const rest = words.slice(depth);
  const helpAt = rest.findIndex((w) => w === '--help' || w === '-h');
  const dashdash = rest.indexOf('--');
  const firstArg = cmd.interspersed === false ? rest.findIndex((w) => !w.startsWith('-')) : -1;
  // --help counts only among the flags: `run busybox ls --help` passes it to ls.
  if (helpAt >= 0 && (dashdash < 0 || helpAt < dashdash) && (firstArg < 0 || helpAt < firstArg)) {
    return { type: 'help', text: commandHelp(cmd, path) };
  }
  const parsed = parseFlags(rest, cmd.flags, { commandPath: path, interspersed: cmd.interspersed });
  const n = parsed.args.length;
  const usageTail = `\n\nUsage:  docker ${path} ${cmd.usage}\n\n${cmd.summary}`;
  if (cmd.args.max === 0 && n > 0) throw new UsageError(`"docker ${path}" accepts no arguments.\n${seeHelp(path)}${usageTail}`);
  if (n < cmd.args.min) {
    const what = cmd.args.min === cmd.args.max ? `exactly ${cmd.args.min} argument${cmd.args.min > 1 ? 's' : ''}` : `at least ${cmd.args.min} argument${cmd.args.min > 1 ? 's' : ''}`;
    throw new UsageError(`"docker ${path}" requires ${what}.\n${seeHelp(path)}${usageTail}`);
  }
  if (cmd.args.max !== undefined && n > cmd.args.max) {
    const what = cmd.args.min === cmd.args.max ? `exactly ${cmd.args.max} argument${cmd.args.max > 1 ? 's' : ''}` : `at most ${cmd.args.max} argument${cmd.args.max > 1 ? 's' : ''}`;
    throw new UsageError(`"docker ${path}" requires ${what}.\n${seeHelp(path)}${usageTail}`);
  }
  // A value the verb let through but the spec refuses (an empty name, say) is the person's to fix.
  const checked = JobSpec.safeParse(cmd.toSpec(parsed, env));
  if (!checked.success) throw new UsageError(`${specProblem(checked.error.issues)}\n${seeHelp(path)}${usageTail}`);
  return { type: 'spec', spec: checked.data, command: cmd, path, host };
}
