import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** A writable directory lent to one call. */
export interface Workspace {
  /** Host path of the directory. */
  path: string;
  /** Gives the directory back: a fresh one is removed, a session's is kept. */
  release(): Promise<void>;
}

/**
 * Hands out workspaces under one root directory owned by this gateway process. A call without a
 * session gets a fresh directory that is removed when the call ends.
 */
export class WorkspaceManager {
  readonly root: string;
  #ready: Promise<void> | undefined;

  constructor(root: string) {
    this.root = root;
  }

  async #ensureRoot(): Promise<void> {
    this.#ready ??= mkdir(join(this.root, 'calls'), { recursive: true, mode: 0o711 }).then(() => undefined);
    await this.#ready;
  }

  /** A fresh, empty directory for one call. */
  async fresh(): Promise<Workspace> {
    await this.#ensureRoot();
    const path = await mkdtemp(join(this.root, 'calls', 'c-'));
    return {
      path,
      release: () => rm(path, { recursive: true, force: true, maxRetries: 3 }),
    };
  }

  /**
   * The persistent workspace of `principal`'s session `sessionId`. Two principals using the same
   * id get different directories. The id must already be validated against SESSION_ID_PATTERN.
   */
  async session(principal: string, sessionId: string): Promise<Workspace> {
    await this.#ensureRoot();
    const owner = createHash('sha256').update(principal).digest('hex').slice(0, 32);
    const path = join(this.root, 'sessions', owner, sessionId);
    await mkdir(path, { recursive: true, mode: 0o700 });
    return { path, release: async () => {} };
  }

  /** Removes every workspace, sessions included. */
  async close(): Promise<void> {
    await rm(this.root, { recursive: true, force: true, maxRetries: 3 });
  }
}
