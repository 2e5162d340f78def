import { createHash } from 'node:crypto';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_DISK_BYTES, DEFAULT_MAX_FILES, DEFAULT_MAX_SESSIONS_PER_PRINCIPAL, DEFAULT_SESSION_TTL_S } from './config.js';
import { ToolError } from './errors.js';
import { removeTree } from './remove-tree.js';
import { secureDir } from './work-dir.js';
import { measureUsage, type Usage } from './sandbox/disk-usage.js';

/** A writable directory lent to one call. */
export interface Workspace {
  /** Host path of the directory. */
  path: string;
  /** Gives the directory back: a fresh one is removed, a session's is kept (and measured). */
  release(): Promise<void>;
}

/** Options of {@link WorkspaceManager}. */
export interface WorkspaceManagerOptions {
  /** Host uid/gid that must be able to write the workspaces (the sandbox user). @default the gateway's own */
  owner?: { uid: number; gid: number } | undefined;
  /** A session unused this long is deleted with its files. @default DEFAULT_SESSION_TTL_S */
  sessionTtlS?: number;
  /** Bytes a session may hold; one left larger refuses further runs until deleted. @default DEFAULT_DISK_BYTES */
  sessionQuotaBytes?: number;
  /** Entries a session may hold; one left with more refuses further runs until deleted. @default DEFAULT_MAX_FILES */
  sessionMaxFiles?: number;
  /**
   * Sessions one principal may hold at once, so its disk use is bounded by this times the quota;
   * a new session past it is refused until one is deleted. @default DEFAULT_MAX_SESSIONS_PER_PRINCIPAL
   */
  maxSessionsPerPrincipal?: number | undefined;
  /** Clock in milliseconds, for tests. @default Date.now */
  now?: () => number;
}

interface SessionState {
  /** Hash of the principal: sessions are counted per owner. */
  owner: string;
  path: string;
  lastUsed: number;
  /** Measured after the last call. */
  usage: Usage;
  /** Tail of the queue of calls on this session: they run one at a time. */
  tail: Promise<void>;
  users: number;
}

/**
 * Hands out workspaces under one root directory owned by this gateway process. A call without a
 * session gets a fresh directory that is removed when the call ends. Calls on one session run one
 * after another, so two runs never race on the same files.
 */
export class WorkspaceManager {
  readonly root: string;
  readonly #owner: { uid: number; gid: number } | undefined;
  readonly #ttlMs: number;
  readonly #quota: number;
  readonly #maxFiles: number;
  readonly #maxSessions: number;
  readonly #now: () => number;
  readonly #sessions = new Map<string, SessionState>();
  /** Sessions per owner hash, kept with #sessions. */
  readonly #perOwner = new Map<string, number>();
  #sweeper: NodeJS.Timeout | undefined;
  #ready: Promise<void> | undefined;

  constructor(root: string, options: WorkspaceManagerOptions = {}) {
    this.root = root;
    this.#owner = options.owner;
    this.#ttlMs = (options.sessionTtlS ?? DEFAULT_SESSION_TTL_S) * 1000;
    this.#quota = options.sessionQuotaBytes ?? DEFAULT_DISK_BYTES;
    this.#maxFiles = options.sessionMaxFiles ?? DEFAULT_MAX_FILES;
    this.#maxSessions = options.maxSessionsPerPrincipal ?? DEFAULT_MAX_SESSIONS_PER_PRINCIPAL;
    this.#now = options.now ?? Date.now;
    if (!(this.#ttlMs > 0)) throw new TypeError(`Expected \`sessionTtlS\` to be a positive number, got ${String(options.sessionTtlS)}`);
    if (!(this.#quota > 0)) throw new TypeError(`Expected \`sessionQuotaBytes\` to be a positive number, got ${String(options.sessionQuotaBytes)}`);
    if (!Number.isInteger(this.#maxSessions) || this.#maxSessions < 1) {
      throw new TypeError(`Expected \`maxSessionsPerPrincipal\` to be a positive integer, got ${String(options.maxSessionsPerPrincipal)}`);
    }
    if (!(this.#maxFiles > 0)) throw new TypeError(`Expected \`sessionMaxFiles\` to be a positive number, got ${String(options.sessionMaxFiles)}`);
  }

  async #ensureRoot(): Promise<void> {
    // 0o711: the sandbox user must traverse to its own workspace, but may not list the others.
    // Each level is created by us or checked to be ours alone: nothing another user pre-created.
    this.#ready ??= (async () => {
      await secureDir(this.root, 0o711);
      await secureDir(join(this.root, 'calls'), 0o711);
      await secureDir(join(this.root, 'sessions'), 0o711);
    })();
    await this.#ready;
    if (this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => void this.sweep(), Math.min(this.#ttlMs / 2, 60_000));
      this.#sweeper.unref();
    }
  }

  async #handOver(path: string): Promise<void> {
    if (this.#owner !== undefined) await chown(path, this.#owner.uid, this.#owner.gid);
  }

  /** A fresh, empty directory for one call. */
  async fresh(): Promise<Workspace> {
    await this.#ensureRoot();
    const path = await mkdtemp(join(this.root, 'calls', 'c-'));
    try {
      await this.#handOver(path);
    } catch (err) {
      await rm(path, { recursive: true, force: true });
      throw err;
    }
    return {
      path,
      // Removed even after a run killed at a limit: a fresh workspace never outlives its call.
      release: () => removeTree(path),
    };
  }

  #key(principal: string, sessionId: string): { key: string; owner: string; path: string } {
    const owner = createHash('sha256').update(principal).digest('hex').slice(0, 32);
    return { key: `${owner}/${sessionId}`, owner, path: join(this.root, 'sessions', owner, sessionId) };
  }

  /**
   * The persistent workspace of `principal`'s session `sessionId`, once no other call holds it.
   * Two principals using the same id get different directories. The id must already be validated
   * against SESSION_ID_PATTERN.
   * @throws ToolError SESSION_OVER_QUOTA when the session holds more than its quota, or when it
   * would be a new one past the principal's session limit.
   */
  async session(principal: string, sessionId: string): Promise<Workspace> {
    await this.#ensureRoot();
    const { key, owner, path } = this.#key(principal, sessionId);
    let state = this.#sessions.get(key);
    if (state === undefined) {
      const held = this.#perOwner.get(owner) ?? 0;
      if (held >= this.#maxSessions) {
        throw new ToolError(
          'SESSION_OVER_QUOTA',
          `cannot open session \`${sessionId}\`: ${held} sessions are open, the most one principal may hold ` +
            `(MINI_AGENT_MAX_SESSIONS_PER_PRINCIPAL); DELETE /sessions/<id> one you no longer need`,
        );
      }
      this.#perOwner.set(owner, held + 1);
      state = { owner, path, lastUsed: this.#now(), usage: { bytes: 0, entries: 0 }, tail: Promise.resolve(), users: 0 };
      this.#sessions.set(key, state);
    }
    const s = state;
    s.users++;
    let unlock!: () => void;
    const previous = s.tail;
    s.tail = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    await previous;
    const done = () => {
      s.users--;
      s.lastUsed = this.#now();
      unlock();
    };
    try {
      if (s.usage.over !== undefined) {
        const held =
          s.usage.over === 'entries'
            ? `more than ${this.#maxFiles} files, over its quota of ${this.#maxFiles} files`
            : s.usage.over === 'unreadable'
              ? 'a directory the gateway cannot read, so its disk use is unknown'
              : `${s.usage.bytes} bytes, over its quota of ${this.#quota}`;
        throw new ToolError('SESSION_OVER_QUOTA', `session \`${sessionId}\` holds ${held}; DELETE /sessions/${sessionId} to start it again`);
      }
      await secureDir(join(path, '..'), 0o711);
      // Handed to the sandbox user below, so not checked as ours; its parent is ours and 0711.
      await mkdir(path, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      await this.#handOver(path);
    } catch (err) {
      done();
      throw err;
    }
    let released = false;
    return {
      path,
      release: async () => {
        if (released) return;
        released = true;
        try {
          // A run killed at a limit leaves its files: measured here, they keep the session refused.
          s.usage = await measureUsage(path, { maxBytes: this.#quota, maxEntries: this.#maxFiles });
        } finally {
          done();
        }
      },
    };
  }

  /**
   * Deletes `principal`'s session `sessionId` and its files, after any call running on it ends.
   * @returns false when there was no such session.
   */
  async deleteSession(principal: string, sessionId: string): Promise<boolean> {
    const { key } = this.#key(principal, sessionId);
    const state = this.#sessions.get(key);
    if (state === undefined) return false;
    await this.#remove(key, state, () => true);
    return true;
  }

  /** Removes a session's files under its lock, if `stillWanted` holds once the lock is ours. */
  async #remove(key: string, state: SessionState, stillWanted: () => boolean): Promise<void> {
    state.users++;
    let unlock!: () => void;
    const previous = state.tail;
    state.tail = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    await previous;
    try {
      if (!stillWanted()) return;
      await removeTree(state.path);
      state.usage = { bytes: 0, entries: 0 };
      // A call that queued meanwhile keeps the entry: it recreates the directory when it runs.
      if (state.users === 1) this.#forget(key, state);
    } finally {
      state.users--;
      unlock();
    }
  }

  #forget(key: string, state: SessionState): void {
    this.#sessions.delete(key);
    const held = (this.#perOwner.get(state.owner) ?? 1) - 1;
    if (held > 0) this.#perOwner.set(state.owner, held);
    else this.#perOwner.delete(state.owner);
  }

  /** Sessions currently known (for metrics and tests). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Deletes every session idle for longer than the TTL. Runs periodically on its own. */
  async sweep(): Promise<number> {
    const idle = () => this.#now() - this.#ttlMs;
    let removed = 0;
    for (const [key, state] of [...this.#sessions]) {
      if (state.users > 0 || state.lastUsed > idle()) continue;
      // Re-checked under the lock: a call may have used the session while we waited.
      await this.#remove(key, state, () => {
        const wanted = state.users === 1 && state.lastUsed <= idle();
        if (wanted) removed++;
        return wanted;
      });
    }
    return removed;
  }

  /** Removes every workspace, sessions included. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#sessions.clear();
    this.#perOwner.clear();
    await removeTree(this.root);
  }
}
