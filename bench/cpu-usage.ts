/**
 * CPU time by component (Postgres, Redis, the API process, workers) over an interval, from
 * /proc: tells where a machine's cores went while a benchmark ran. Postgres backends
 * count when they serve `database` (or are the server's own background processes).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export type Component = 'postgres' | 'redis' | 'api' | 'workers';

function componentOf(pid: string, database: string, api: number, workers: Set<number>): Component | null {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return null;
  }
  if (Number(pid) === api) return 'api';
  if (workers.has(Number(pid))) return 'workers';
  if (cmdline.startsWith('postgres: ')) {
    // Backends name "user database host"; the server's own processes do not.
    const backend = /^postgres: \S+: \S+ (\S+) /.exec(cmdline);
    return !backend || backend[1] === database ? 'postgres' : null;
  }
  if (/redis-server/.test(cmdline)) return 'redis';
  return null;
}

/** CPU seconds used so far by each component's processes (live ones only): the API
 *  is this process (with the benchmark's own HTTP client), workers are children. */
export function cpuSeconds(database: string, workerPids: number[]): Record<Component, number> {
  const totals: Record<Component, number> = { postgres: 0, redis: 0, api: 0, workers: 0 };
  const workers = new Set(workerPids);
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const component = componentOf(pid, database, process.pid, workers);
    if (!component) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command: utime is the 14th, stime the 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      totals[component] += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // The process ended between listing and reading.
    }
  }
  return totals;
}
