/**
 * Issue 19: attaching to a portal's user database — the email rules over rows the portal writes
 * (rule 13 at query time), inactive accounts, `db check`, orphans and `db cleanup`, the stored policy
 * that clients can only tighten — in-process on SQLite and MariaDB over the demo portal.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkPortal, cleanupOrphans, orphanUserIds, storeMapping } from '../../src/core/usecases/attach.js';
import { GENERATED_MEMBER_PASSWORD_HASH } from '../../src/core/usecases/demoData.js';
import { DEFAULT_POLICY, effectiveSettings } from '../../src/core/rules/policy.js';
import { detectShape } from '../../src/db/identity/detect.js';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { describeEachDatabase } from '../support/databases.js';
import { openWorld, type World } from '../support/world.js';
import { DEVON, SAM } from '../support/scenario.js';
import { refusal } from '../support/refusal.js';

describeEachDatabase('attach to the portal (issue 19)', (getDb) => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld(getDb().url);
  });
  afterAll(async () => {
    await w?.close();
  });

  const audit = { clock: () => w.now(), origin: { host: 'test-host', osUser: 'tester' } };
  const insertUser = async (email: string, hashLike = DEVON.email) => {
    const hash = (await w.knex('users').where('email', hashLike).first('password_hash')).password_hash;
    await w.knex('users').insert({ email, name: 'Portal Row', password_hash: hash, role: 'developer', created_at: w.now() });
    return String((await w.knex('users').where('email', email).first('id')).id);
  };

  it('a user the portal writes later in mixed case signs in in lower case; josé never matches jose', async () => {
    await insertUser('Mixed.Case@Example.com');
    const actor = await w.mfa.signIn({ email: 'mixed.case@example.com', password: w.password(DEVON.email), action: 'portal.login', secondFactor: {} });
    expect(actor.user.email).toBe('Mixed.Case@Example.com');
    await insertUser('jos\u0065\u0301@example.com'); // decomposed é, as a portal might store it
    const jose = await w.mfa.signIn({ email: 'josé@example.com', password: w.password(DEVON.email), action: 'portal.login', secondFactor: {} });
    expect(jose.user.email.normalize('NFC')).toBe('josé@example.com');
    await refusal(w.mfa.signIn({ email: 'jose@example.com', password: w.password(DEVON.email), action: 'portal.login', secondFactor: {} }), 'wrong_password');
  });

  it('two accounts that fold to one email are refused by name, never merged; db check names them', async () => {
    await insertUser('Twin@Example.com');
    await insertUser('twin@example.com');
    const e = await refusal(
      w.mfa.signIn({ email: 'twin@example.com', password: w.password(DEVON.email), action: 'portal.login', secondFactor: {} }),
      'ambiguous_account',
    );
    expect(e.message).toMatch(/2 portal accounts/);
    const report = await checkPortal(w.deps.db, w.now());
    expect(report.duplicates.map((d) => d.email)).toContain('twin@example.com');
    expect(report.usable).toBe(true);
    await w.knex('users').where('email', 'Twin@Example.com').delete();
  });

  it('an inactive account (the portal deleted it from its active set) can neither sign in nor be found by its session', async () => {
    // the demo mapping has no active condition: store one that reads a role value as "deactivated"
    const deactivating = { ...DEMO_MAPPING, users: { ...DEMO_MAPPING.users, active: { column: 'role', in: ['developer', 'support'] } } };
    await storeMapping(w.deps.db, audit, deactivating);
    w.deps.db = { ...w.deps.db, mapping: deactivating };
    const id = await insertUser('gone@example.com');
    await w.knex('users').where('id', id).update({ role: 'deactivated' });
    await refusal(w.mfa.signIn({ email: 'gone@example.com', password: w.password(DEVON.email), action: 'portal.login', secondFactor: {} }), 'account_inactive');
    const rows = await w.audit({ target_user_id: id, outcome: 'refused' });
    expect(rows.at(-1)?.reason).toMatch(/inactive/);
    await storeMapping(w.deps.db, audit, DEMO_MAPPING);
    w.deps.db = { ...w.deps.db, mapping: DEMO_MAPPING };
  });

  it('db check: usable, with counts of hash formats; a mapping naming a missing column is refused and nothing stored', async () => {
    const report = await checkPortal(w.deps.db, w.now());
    expect(report.usable).toBe(true);
    expect(report.hashFormats.bcrypt).toBeGreaterThan(5);
    await w.knex('users').where('email', 'mixed.case@example.com').orWhere('email', 'Mixed.Case@Example.com').update({ password_hash: 'pbkdf2_sha999$1$x$y' });
    const after = await checkPortal(w.deps.db, w.now());
    expect(after.items.find((i) => i.check === 'hashes')?.level).toBe('warning');
    const broken = { ...DEMO_MAPPING, users: { ...DEMO_MAPPING.users, email: 'mail' } };
    const e = await refusal(storeMapping(w.deps.db, audit, broken), 'mapping_invalid');
    expect(e.message).toMatch(/no column mail/);
    const stored = await w.knex('mfa_settings').where('name', 'identity').first('value');
    expect(JSON.parse(stored.value).users.email).toBe('email');
  });

  it('detect recognises the demo portal', async () => {
    const d = await detectShape(w.knex);
    expect(d.preset).toBe('demo');
    expect(d.mapping).toEqual(DEMO_MAPPING);
  });

  it('a user deleted from the portal leaves orphans that db check reports and db cleanup removes, audited', async () => {
    const id = await insertUser('leaver@example.com');
    await w.knex('users').where('id', id).update({ password_hash: GENERATED_MEMBER_PASSWORD_HASH });
    const secret = await w.enrol('leaver@example.com');
    expect(secret).toBeTruthy();
    await w.knex('users').where('id', id).delete();
    expect(await orphanUserIds(w.deps.db)).toContain(id);
    expect((await checkPortal(w.deps.db, w.now())).orphans).toBeGreaterThan(0);
    const done = await cleanupOrphans(w.deps.db, audit);
    expect(done.userIds).toContain(id);
    expect(await w.knex('mfa_credentials').where('user_id', id).count({ n: '*' }).first()).toMatchObject({ n: 0 });
    expect((await w.audit({ action: 'db.cleanup' })).length).toBe(1);
  });

  it('the stored policy is what clients run with; a client may only tighten the window and lifetimes, never the lockout', () => {
    const looser = effectiveSettings(DEFAULT_POLICY, { maxFailures: 100, trustDays: 365, window: 2 }, 'X');
    expect(looser).toMatchObject({ maxFailures: 5, trustDays: 30, window: 1 });
    const stricter = effectiveSettings(DEFAULT_POLICY, { trustDays: 7, window: 0, sessionHours: 1, reauthSeconds: 60 }, 'X');
    expect(stricter).toMatchObject({ trustDays: 7, window: 0, sessionHours: 1, reauthSeconds: 60 });
    // a lock applies to the user, whoever's client counted: its thresholds and lengths are the policy's alone
    const harsher = effectiveSettings(DEFAULT_POLICY, { maxFailures: 2, hardLockFailures: 10, lockMinutes: 1440 }, 'X');
    expect(harsher).toMatchObject({ maxFailures: 5, hardLockFailures: 100, lockMinutes: 15 });
  });

  it('policy set: support only, with a ticket and the password; the portal-wide requirement applies rule 4 to everyone', async () => {
    const devon = await w.as(DEVON.email);
    await refusal(w.mfa.setPortalPolicy(devon, { change: { mfaRequired: true } }), 'forbidden');
    const samSecret = await w.enrol(SAM.email);
    const sam = await w.as(SAM.email, samSecret);
    await refusal(w.mfa.setPortalPolicy(sam, { change: { mfaRequired: true } }), 'ticket_required');
    const r = await w.mfa.setPortalPolicy(sam, { change: { mfaRequired: true, limits: { maxFailures: 4 } }, ticket: 'SUP-9', password: w.password(SAM.email) });
    expect(r.kind).toBe('changed');
    expect(r.noticesQueued).toBeGreaterThan(0);
    // devon has no MFA: he may see his status, but nothing else until he enrols
    const again = await w.as(DEVON.email);
    await refusal(w.mfa.listDevices(again, {}), 'enrolment_required');
    await w.mfa.setPortalPolicy(sam, { change: { mfaRequired: false, limits: { maxFailures: 5 } }, ticket: 'SUP-9', password: w.password(SAM.email) });
  });
});
