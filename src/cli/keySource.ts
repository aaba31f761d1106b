import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { ensureDirectory } from '../core/primitives/ensureDirectory.js';
import { dirname } from 'node:path';
import { configError } from '../core/errors.js';
import { generateKeyBase64, keyFromBase64, KeyFormatError, type SecretKey } from '../core/primitives/secretBox.js';
import type { DatabaseTarget } from '../db/url.js';

/**
 * Where the secrets key comes from: PORTAL_MFA_KEY (base64), --key-file / PORTAL_MFA_KEY_FILE,
 * or — for SQLite databases only — a key file generated beside the database (`<db>.key`, 0600).
 * A key file holds one base64 key per line: the first encrypts, all of them decrypt (so a key
 * rotation can be finished while older rows are still readable).
 */
export function loadKeyring(
  opts: { keyFile?: string },
  env: NodeJS.ProcessEnv,
  target: DatabaseTarget,
  /** encrypted secrets in the database, counted when `<db>.key` was missing as it opened (undefined: not counted) */
  storedSecrets?: number,
): SecretKey[] {
  const source = keySourceOf(opts, env, target);
  if (source.kind === 'env') {
    // "NEW,OLD": the first key encrypts, all of them decrypt (during a key rotation)
    return env.PORTAL_MFA_KEY!.split(',').map((k, i) => parseKey(k.trim(), `PORTAL_MFA_KEY key ${i + 1}`));
  }
  if (source.kind === 'file') return readKeyFile(source.path);
  return ensureKeyBesideDatabase(source.path, storedSecrets);
}

export type KeySource = { kind: 'env' } | { kind: 'file'; path: string } | { kind: 'embedded'; path: string };

export function keySourceOf(opts: { keyFile?: string }, env: NodeJS.ProcessEnv, target: DatabaseTarget): KeySource {
  if (env.PORTAL_MFA_KEY !== undefined && env.PORTAL_MFA_KEY.trim() !== '' && opts.keyFile === undefined) return { kind: 'env' };
  const file = opts.keyFile ?? (env.PORTAL_MFA_KEY_FILE?.trim() || undefined);
  if (file !== undefined) return { kind: 'file', path: file };
  if (target.dialect === 'sqlite') return { kind: 'embedded', path: target.filename };
  throw configError('no secrets key is configured', {
    hint: 'set PORTAL_MFA_KEY (base64 of 32 bytes) or pass --key-file FILE',
  });
}

/** Rewrite a key file atomically (0600): first line encrypts, the rest only decrypt. */
export function writeKeyFile(file: string, keysBase64: string[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, keysBase64.join('\n') + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The `<db>.key` a database would get generated, when that is the key source and the file does not exist yet. */
export function missingGeneratedKeyFile(opts: { keyFile?: string }, env: NodeJS.ProcessEnv, target: DatabaseTarget): string | undefined {
  let source: KeySource;
  try {
    source = keySourceOf(opts, env, target);
  } catch {
    return undefined; // no key configured: reported when a key is needed
  }
  if (source.kind !== 'embedded') return undefined;
  const file = keyFilePathFor(source.path);
  return existsSync(file) ? undefined : file;
}

/** Identity of the key file's current version (inode, size, mtime), or undefined for PORTAL_MFA_KEY or a missing file. */
export function keyFileStamp(opts: { keyFile?: string }, env: NodeJS.ProcessEnv, target: DatabaseTarget): string | undefined {
  let source: KeySource;
  try {
    source = keySourceOf(opts, env, target);
  } catch {
    return undefined;
  }
  if (source.kind === 'env') return undefined;
  const file = source.kind === 'file' ? source.path : keyFilePathFor(source.path);
  try {
    const st = statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export function keyFilePathFor(dbFile: string): string {
  return `${dbFile}.key`;
}

export function readKeyFile(file: string): SecretKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw configError(`cannot read the key file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'check --key-file / PORTAL_MFA_KEY_FILE',
    });
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw configError(`the key file ${file} holds no key`);
  return lines.map((l, i) => parseKey(l, `${file} line ${i + 1}`));
}

function parseKey(b64: string, source: string): SecretKey {
  try {
    return keyFromBase64(b64);
  } catch (e) {
    if (e instanceof KeyFormatError) throw configError(`${source}: ${e.message}`, { hint: 'generate one with: openssl rand -base64 32' });
    throw e;
  }
}

/**
 * Every key of `<db>.key` (the first encrypts; the others decrypt, e.g. during a key rotation).
 * A missing file is generated only for a database that holds no encrypted secret (SPEC §3): a new
 * key beside existing secrets would make them unreadable and, worse, silently encrypt new ones
 * under a key nobody backed up, so that is a refusal naming the file to restore.
 */
function ensureKeyBesideDatabase(dbFile: string, storedSecrets: number | undefined): SecretKey[] {
  const file = keyFilePathFor(dbFile);
  if (!existsSync(file)) {
    if (storedSecrets === undefined || storedSecrets > 0) {
      throw configError(
        storedSecrets === undefined
          ? `the key file ${file} is missing`
          : `the key file ${file} is missing, but the database holds ${storedSecrets} encrypted secret(s); no new key was generated`,
        { hint: 'restore the key file from your backup (or give the key with --key-file / PORTAL_MFA_KEY)' },
      );
    }
    ensureDirectory(dirname(file));
    try {
      // 'wx': never overwrite a key another process just wrote
      writeFileSync(file, generateKeyBase64() + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw configError(`cannot create the key file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
  } else if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
  }
  return readKeyFile(file);
}

/**
 * A key file's part in `keys rotate` (core/usecases/keyRotation.ts runs both steps under its
 * rotation lock): every process reading the file can decrypt throughout, so it changes in two steps.
 * Once the lock is held the new key is added as a decrypt-only line; when every secret is under it,
 * it becomes the first line (the encrypting key). Each step starts from a fresh read of the file: a
 * rotation that finished since this one started must not have its key dropped. Without a key file
 * (PORTAL_MFA_KEY) the steps only give the rotation its keyring.
 */
export function keyFileRotation(
  keyFile: string | undefined,
  current: SecretKey[],
  newKey: SecretKey,
): { keyring: () => SecretKey[]; onLocked: () => void; onComplete: () => void } {
  const b64 = (k: SecretKey) => k.key.toString('base64');
  const withNewKey = (keys: SecretKey[]) => [...keys.filter((k) => k.id !== newKey.id), newKey];
  let keyring = withNewKey(current);
  return {
    keyring: () => keyring,
    onLocked: () => {
      if (!keyFile) return;
      const onFile = readKeyFile(keyFile);
      keyring = withNewKey(onFile);
      if (!onFile.some((k) => k.id === newKey.id)) writeKeyFile(keyFile, keyring.map(b64));
    },
    onComplete: () => {
      if (keyFile) writeKeyFile(keyFile, [newKey, ...readKeyFile(keyFile).filter((k) => k.id !== newKey.id)].map(b64));
    },
  };
}
