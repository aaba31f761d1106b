import type { UserId } from '../domain.js';
import { credentialsPage } from '../../db/credentialRepository.js';
import type { MfaDeps } from '../deps.js';

/** Encrypted secrets in the database: a missing generated key file is only made for a database with none (SPEC §3). */
export { countStoredSecrets } from '../../db/storedSecrets.js';
import { openSecret } from '../primitives/secretBox.js';

export interface KeyCheckResult {
  total: number;
  /** secrets per key id they are stored under */
  byKeyId: Record<string, number>;
  /** secrets the current key ring cannot decrypt */
  failures: { credentialId: number; userId: UserId; keyId: string }[];
}

/**
 * `keys check`: decrypt every stored secret with the current key ring, changing nothing — so an
 * operator learns before a rotation (or after a restore) whether the configured keys still open
 * every secret. Nothing secret is returned.
 */
export async function checkKeys(deps: MfaDeps, onProgress?: (done: number) => void): Promise<KeyCheckResult> {
  const keyring = deps.keyring();
  const result: KeyCheckResult = { total: 0, byKeyId: {}, failures: [] };
  let after = 0;
  for (;;) {
    const page = await credentialsPage(deps.db, after, 500);
    if (page.length === 0) break;
    for (const c of page) {
      result.total++;
      result.byKeyId[c.key_id] = (result.byKeyId[c.key_id] ?? 0) + 1;
      try {
        openSecret(c.secret_ciphertext, c.key_id, keyring);
      } catch {
        result.failures.push({ credentialId: c.id, userId: c.user_id, keyId: c.key_id });
      }
    }
    after = page[page.length - 1]!.id;
    onProgress?.(result.total);
  }
  return result;
}
