import { within } from '../../db/store.js';
import { countCredentialsNotUnderKey, credentialsNotUnderKey, reencryptCredential } from '../../db/credentialRepository.js';
import { acquireLock, lockHolder, refreshLock, releaseLock } from '../../db/maintenanceLock.js';
import { recordAudit } from '../primitives/audit.js';
import type { MfaDeps } from '../deps.js';
import { configError, wrongState } from '../errors.js';
import { openSecret, sealSecret, type SecretKey } from '../primitives/secretBox.js';
import { decryptSecret } from '../primitives/secrets.js';
import { humanTimeUntil } from '../primitives/humanTime.js';

const LOCK = 'keys.rotate';
const LOCK_TTL_MS = 5 * 60_000;

export interface RotationResult {
  newKeyId: string;
  rotated: number;
  alreadyDone: boolean;
}

/**
 * Re-encrypt every TOTP secret under `newKey`, in batches, each batch one transaction. Rows carry
 * their key id, so the job is idempotent and resumable: a rerun after an interruption only
 * touches rows not yet under the new key. Before the first commit, a sample is decrypted,
 * re-encrypted and decrypted again with the new key. Only one rotation runs at a time.
 */
/**
 * Make the new key the encrypting one (onComplete), then re-scan from the start, still holding the
 * lock, until no row has another key id. A writer that read the old key before onComplete may
 * have committed a secret under it after the last pass went by (issue 9: "a secret left under the
 * old key after the rotation reported complete"); writers that read the key after onComplete
 * encrypt with the new one, so the re-scan converges. Returns how many rows the re-scans fixed.
 */
async function settle(
  deps: MfaDeps,
  newKey: SecretKey,
  opts: { onComplete?: () => void | Promise<void> },
  reencryptAll: () => Promise<number>,
): Promise<number> {
  await opts.onComplete?.();
  let fixed = 0;
  for (let rescans = 0; (await countCredentialsNotUnderKey(deps.db, newKey.id)) > 0; rescans++) {
    if (rescans >= 10) {
      throw configError('secrets keep being written under another key while the rotation finishes', {
        hint: 'a process is still running with the old key (e.g. PORTAL_MFA_KEY): give it the new key, then run keys rotate again',
      });
    }
    fixed += await reencryptAll();
  }
  return fixed;
}

export async function rotateKeys(
  deps: MfaDeps,
  newKey: SecretKey,
  opts: {
    batchSize?: number;
    onProgress?: (done: number, total: number) => void;
    stopAfterBatches?: number;
    /** runs once the rotation lock is held, before anything is read (e.g. re-read and extend a key file) */
    onLocked?: () => void | Promise<void>;
    /** runs when every secret is under the new key, while the lock is still held */
    onComplete?: () => void | Promise<void>;
  } = {},
): Promise<RotationResult> {
  const batchSize = opts.batchSize ?? 200;
  const holder = `${deps.origin.osUser}@${deps.origin.host} pid ${process.pid}`;
  if (!(await acquireLock(deps.db, LOCK, holder, deps.clock(), LOCK_TTL_MS))) {
    const other = await lockHolder(deps.db, LOCK);
    throw wrongState(`another key rotation is running (${other?.holder ?? 'unknown'})`, {
      hint: `wait for it to finish; a stale lock expires at ${other ? humanTimeUntil(other.expires_at) : 'soon'}`,
    });
  }
  try {
    await opts.onLocked?.();
    const total = await countCredentialsNotUnderKey(deps.db, newKey.id);
    let done = 0;
    let batches = 0;
    const reencryptPass = async (): Promise<'done' | 'stopped'> => {
      let after = 0;
      for (;;) {
        const rows = await credentialsNotUnderKey(deps.db, newKey.id, after, batchSize);
        if (rows.length === 0) return 'done';
        const plains = rows.map((r) => decryptSecret(deps, r));
        await deps.db.root.transaction(async (knexTrx) => {
          const trx = within(deps.db, knexTrx);
          for (let i = 0; i < rows.length; i++) {
            const row = rows[i]!;
            const next = sealSecret(plains[i]!, newKey, deps.random);
            if (await reencryptCredential(trx, row.id, { ciphertext: row.secret_ciphertext, keyId: row.key_id }, next)) done++;
          }
        });
        after = rows[rows.length - 1]!.id;
        batches++;
        opts.onProgress?.(done, Math.max(total, done));
        await refreshLock(deps.db, LOCK, holder, deps.clock(), LOCK_TTL_MS);
        // test hook: stop between batches, as an interrupted run would (a rerun finishes the job)
        if (opts.stopAfterBatches !== undefined && batches >= opts.stopAfterBatches) return 'stopped';
      }
    };
    const rescan = async () => {
      const before = done;
      await reencryptPass();
      return done - before;
    };
    if (total === 0) {
      const fixed = await settle(deps, newKey, opts, rescan);
      return { newKeyId: newKey.id, rotated: fixed, alreadyDone: fixed === 0 };
    }
    // Every secret must still be readable with the configured keyring.
    const sample = await credentialsNotUnderKey(deps.db, newKey.id, 0, 5);
    for (const row of sample) {
      const plain = decryptSecret(deps, row);
      const sealed = sealSecret(plain, newKey, deps.random);
      if (openSecret(sealed.ciphertext, sealed.keyId, [newKey]) !== plain) {
        throw configError('the new key failed a round-trip check; nothing was changed');
      }
    }
    await recordAudit(deps.db, deps, { action: 'keys.rotate', outcome: 'started', detail: { newKeyId: newKey.id, rows: total } });
    if ((await reencryptPass()) === 'stopped') return { newKeyId: newKey.id, rotated: done, alreadyDone: false };
    await settle(deps, newKey, opts, rescan);
    await recordAudit(deps.db, deps, { action: 'keys.rotate', outcome: 'success', detail: { newKeyId: newKey.id, rotated: done } });
    return { newKeyId: newKey.id, rotated: done, alreadyDone: false };
  } finally {
    await releaseLock(deps.db, LOCK, holder).catch(() => undefined);
  }
}

/** How many secrets are not yet under `keyId` (what a rotation to it would re-encrypt). */
export async function secretsNotUnderKey(deps: Pick<MfaDeps, 'db'>, keyId: string): Promise<number> {
  return countCredentialsNotUnderKey(deps.db, keyId);
}
