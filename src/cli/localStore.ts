import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ensureDirectory } from '../core/primitives/ensureDirectory.js';
import { join } from 'node:path';
import { configDir } from './paths.js';

/**
 * This machine's CLI session and trusted-device tokens, in the user's config directory, mode
 * 0600. Keyed by database (without credentials) so several portals can be used side by side.
 */
export interface StoredSession {
  email: string;
  token: string;
  expiresAt: string;
}

export interface StoredDevice {
  token: string;
  deviceId: number;
  expiresAt: string;
}

type Store<T> = Record<string, T>;

function readStore<T>(file: string): Store<T> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Store<T>) : {};
  } catch {
    return {};
  }
}

function writeStore<T>(dir: string, file: string, store: Store<T>): void {
  ensureDirectory(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(store, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export class LocalStore {
  private readonly dir: string;
  constructor(env: NodeJS.ProcessEnv) {
    this.dir = configDir(env);
  }
  get sessionsFile(): string {
    return join(this.dir, 'sessions.json');
  }
  get devicesFile(): string {
    return join(this.dir, 'devices.json');
  }

  getSession(dbKey: string): StoredSession | undefined {
    return readStore<StoredSession>(this.sessionsFile)[dbKey];
  }
  setSession(dbKey: string, session: StoredSession): void {
    const store = readStore<StoredSession>(this.sessionsFile);
    store[dbKey] = session;
    writeStore(this.dir, this.sessionsFile, store);
  }
  clearSession(dbKey: string): void {
    const store = readStore<StoredSession>(this.sessionsFile);
    if (!(dbKey in store)) return;
    delete store[dbKey];
    writeStore(this.dir, this.sessionsFile, store);
  }

  getDevice(dbKey: string, email: string): StoredDevice | undefined {
    return readStore<StoredDevice>(this.devicesFile)[`${dbKey} ${email}`];
  }
  setDevice(dbKey: string, email: string, device: StoredDevice): void {
    const store = readStore<StoredDevice>(this.devicesFile);
    store[`${dbKey} ${email}`] = device;
    writeStore(this.dir, this.devicesFile, store);
  }
  clearDevice(dbKey: string, email: string): void {
    const store = readStore<StoredDevice>(this.devicesFile);
    const key = `${dbKey} ${email}`;
    if (!(key in store)) return;
    delete store[key];
    writeStore(this.dir, this.devicesFile, store);
  }
}
