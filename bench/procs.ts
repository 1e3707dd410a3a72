/**
 * Child processes of the benchmark runner: Node scripts started with a raised open-files limit, pinned to one core
 * with `taskset` where the machine has more than one, and driven over Node's IPC channel with request/response
 * messages. Also reads a process's CPU time from /proc.
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { withTimeout } from './util.js';

/** Open-files limit the children ask for: 10,000 sockets plus room for the rest. */
export const NOFILE = 65_536;

/** A request from the runner to a child: `id` correlates the answer. */
export interface IpcRequest {
  id: number;
  cmd: string;
  [key: string]: unknown;
}
/** A child's answer to {@link IpcRequest}: the same `id`, and either `result` or `error`. */
export interface IpcResponse {
  id: number;
  result?: unknown;
  error?: string;
}

const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;

/** Whether benchmark processes can be pinned to different cores (taskset present and ≥ 2 CPUs). */
export function canPin(): boolean {
  return hasTaskset && cpus().length >= 2;
}

/** A running child script with request/response IPC. */
export interface NodeChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Sends a command and resolves with the child's `result` (rejects with its `error`), within `timeoutMs`. */
  request<T>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** The first unsolicited message (no `id`) for which `match` holds. */
  waitForMessage<T>(match: (message: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<T>;
  /** SIGKILL and wait for the exit (benchmark processes hold nothing worth a graceful shutdown). */
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Starts `node [nodeArgs] script [args]` with an IPC channel, through `bash -c 'ulimit -n …; exec taskset -c CPU …'`
 * (each part only where possible). `cpu` undefined: not pinned.
 */
export function spawnNode(
  script: string,
  args: readonly string[],
  options: { cpu?: number | undefined; nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): NodeChild {
  const command = [process.execPath, ...(options.nodeArgs ?? []), script, ...args];
  if (options.cpu !== undefined && canPin()) command.unshift('taskset', '-c', String(options.cpu));
  // The raised limit is best effort: without privilege `ulimit -n` fails and the current one stays.
  const shell = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`;
  const proc = spawn('bash', ['-c', shell, 'bash', ...command], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: options.env ?? process.env,
  });
  children.add(proc);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.once('exit', () => children.delete(proc));

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(message: Record<string, unknown>) => void>();
  proc.on('message', (raw) => {
    const message = raw as Record<string, unknown>;
    if (typeof message['id'] === 'number') {
      const waiter = pending.get(message['id']);
      pending.delete(message['id']);
      const response = message as unknown as IpcResponse;
      if (response.error !== undefined) waiter?.reject(new Error(`${script}: ${response.error}`));
      else waiter?.resolve(response.result);
      return;
    }
    for (const listener of listeners) listener(message);
  });
  proc.once('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited (${signal ?? code})`));
    pending.clear();
  });

  return {
    proc,
    get pid() {
      return proc.pid ?? -1;
    },
    request<T>(cmd: string, requestArgs: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
      const id = nextId++;
      const answer = new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      });
      proc.send({ id, cmd, ...requestArgs } satisfies IpcRequest);
      return withTimeout(answer, timeoutMs, `${script} ${cmd}`);
    },
    waitForMessage<T>(
      match: (message: Record<string, unknown>) => boolean,
      timeoutMs: number,
      what: string,
    ): Promise<T> {
      let listener: ((message: Record<string, unknown>) => void) | undefined;
      const found = new Promise<T>((resolve, reject) => {
        listener = (message) => {
          if (match(message)) resolve(message as T);
        };
        listeners.add(listener);
        proc.once('exit', (code, signal) => reject(new Error(`${script} exited (${signal ?? code}) before ${what}`)));
      });
      return withTimeout(found, timeoutMs, what).finally(() => {
        if (listener) listeners.delete(listener);
      });
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await withTimeout(exited, 10_000, `killing ${script}`);
    },
  };
}

/**
 * Serves IPC requests in a child: `handler(cmd, args)` answers each {@link IpcRequest}; a thrown error becomes the
 * response's `error`.
 */
export function serveIpc(handler: (cmd: string, args: Record<string, unknown>) => Promise<unknown> | unknown): void {
  if (!process.send) throw new Error('this script must be started by the benchmark runner (no IPC channel)');
  process.on('message', (raw) => {
    const request = raw as IpcRequest;
    Promise.resolve()
      .then(() => handler(request.cmd, request))
      .then(
        (result) => process.send?.({ id: request.id, result } satisfies IpcResponse),
        (error: unknown) =>
          process.send?.({
            id: request.id,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      );
  });
  // The runner going away (IPC closed) ends the child too.
  process.on('disconnect', () => process.exit(0));
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU time that process `pid` (all its threads) has used so far, in microseconds. Precise (nanoseconds) from the
 * scheduler's per-thread `/proc/PID/task/TID/schedstat` (time on CPU) where the kernel has it; else from
 * /proc/PID/stat (proc(5): utime + stime, fields 14 and 15, in clock ticks of usually 10 ms).
 */
export function procCpuMicros(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended in between
      }
    }
    if (ns > 0) return ns / 1000;
  } catch {
    // no schedstat: fall through
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLOCK_TICKS;
}

/** CPU time (user + system) of `pid` and all its descendants that are alive now, in microseconds. */
export function treeCpuMicros(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += procCpuMicros(p);
    } catch {
      // exited in between
    }
  }
  return total;
}

/** `pid` and all its live descendants (from /proc/PID/task/TID/children). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    out.push(p);
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const kids = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (kids) stack.push(...kids.split(/\s+/).map(Number));
      } catch {
        // thread gone
      }
    }
  }
  return out;
}
