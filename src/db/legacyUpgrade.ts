import { configError } from '../core/errors.js';
import type { Db } from './store.js';

/** Placeholder until the forward upgrade of pre-prefix installations lands. */
export async function upgradeLegacySchema(_db: Db, _runLatest: () => Promise<string[]>): Promise<string[]> {
  throw configError('upgrading an installation from before the identity mapping is not available in this build');
}
