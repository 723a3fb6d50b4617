import { UsageError } from '../errors.js';

/** Repeated `-f key=value` flags as the Engine API's filters map ({key: [values]}). */
export function parseFilters(raw: string[], allowed: string[], commandPath: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of raw) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value)\nSee 'docker ${commandPath} --help'.`);
    const key = f.slice(0, eq).trim().toLowerCase();
    const value = f.slice(eq + 1).trim();
    if (!allowed.includes(key)) throw new UsageError(`Error response from daemon: invalid filter '${key}'`, 1);
    (out[key] ??= []).push(value);
  }
  return out;
}
