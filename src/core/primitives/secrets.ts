import { configError } from '../errors.js';
import { openSecret, sealSecret, WrongKeyError, type SecretKey } from './secretBox.js';
import type { MfaDeps } from '../deps.js';

/** Decrypt a stored TOTP secret; a wrong key is a configuration error (exit 10), never a wrong code. */
export function decryptSecret(deps: Pick<MfaDeps, 'keyring'>, row: { secret_ciphertext: string; key_id: string }): string {
  const keyring = deps.keyring();
  try {
    return openSecret(row.secret_ciphertext, row.key_id, keyring);
  } catch (e) {
    if (e instanceof WrongKeyError) {
      const ids = keyring.map((k: SecretKey) => k.id).join(', ');
      throw configError(`the secrets key does not match the database (secret encrypted under key id ${row.key_id}, configured key id ${ids})`, {
        hint: 'set PORTAL_MFA_KEY or --key-file to the key this database was created with',
      });
    }
    throw e;
  }
}

export function encryptSecret(deps: Pick<MfaDeps, 'keyring' | 'random'>, secret: string): { ciphertext: string; keyId: string } {
  const key = deps.keyring()[0]!;
  return sealSecret(secret, key, deps.random);
}
