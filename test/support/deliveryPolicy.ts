/**
 * The portal's delivery policy (SPEC §7, §8) for fixtures: where notices are mailed and from whom.
 * In production support stores it with `portal-mfa policy set --smtp-relay URL --mail-from ADDR
 * --ticket T` (test/e2e/policy-cli.test.ts drives that); fixtures write the same document directly,
 * as that command does, keeping every other field of the stored policy.
 *
 *   await setDeliveryPolicy(db.store, { relay: `smtp://127.0.0.1:${smtp.port}`, from: 'Portal <no-reply@portal.example>' });
 *   await setDeliveryPolicy(knex, null); // no relay: notices stay in the outbox
 *
 * The relay carries no credentials: those are the operator's (PORTAL_MFA_SMTP_URL naming the same
 * relay lends them).
 */
import type { Knex } from 'knex';
import { type DeliveryPolicy, POLICY_SETTING } from '../../src/core/rules/policy.js';
import { readSetting, writeSetting } from '../../src/db/settingsRepository.js';
import { DEFAULT_TABLE_PREFIX, type Db, makeDb } from '../../src/db/store.js';
import { policyRelay } from '../../src/mail/relay.js';

const isDb = (target: Db | Knex): target is Db => typeof target === 'object' && 't' in target && 'root' in target;

/** Store `delivery` in the portal policy (null: no relay). A Knex connection means the default table prefix. */
export async function setDeliveryPolicy(target: Db | Knex, delivery: DeliveryPolicy | null): Promise<void> {
  const db = isDb(target) ? target : makeDb(target, DEFAULT_TABLE_PREFIX, null);
  // what `policy set` refuses, a fixture may not store either; nor credentials (they are the operator's)
  if (delivery && policyRelay(delivery).user !== null) throw new Error(`a relay in the policy carries no credentials: ${delivery.relay}`);
  const stored = await readSetting(db, POLICY_SETTING);
  const policy = stored === undefined ? {} : (JSON.parse(stored) as Record<string, unknown>);
  await writeSetting(db, POLICY_SETTING, JSON.stringify({ ...policy, delivery }), Date.now(), 'test fixture');
}
