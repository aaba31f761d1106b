/**
 * Issue 19, the acceptance scenario: portal-mfa attached to existing portals it was never written
 * for — Laravel + Jetstream, Django + django-organizations, and an unusual custom schema (UUIDs,
 * other table and column names, support in a table of its own) — on SQLite and on MariaDB. On
 * MariaDB the portal lives in a database of its own and portal-mfa runs as a least-privilege
 * account (SELECT on the mapped tables, everything on its own database). Every story goes through
 * the core API, as the CLI and the library do; the portal's tables must be byte-identical at the end.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/rules/actor.js';
import { createPortalMfa, type PortalMfa } from '../../src/core/api.js';
import { checkPortal, storeMapping } from '../../src/core/usecases/attach.js';
import type { MfaDeps } from '../../src/core/deps.js';
import { generateKeyBase64, keyFromBase64 } from '../../src/core/primitives/secretBox.js';
import { DEFAULT_SETTINGS } from '../../src/core/settings.js';
import { type Database, openDatabase } from '../../src/db/connect.js';
import { mappedTables } from '../../src/db/identity/mapping.js';
import { migrateLatest } from '../../src/db/schema.js';
import { makeDb } from '../../src/db/store.js';
import { parseDatabaseUrl } from '../../src/db/url.js';
import { describeEachDatabase } from '../support/databases.js';
import { totpAt } from '../support/independentTotp.js';
import { leastPrivilegeUser } from '../support/leastPrivilegeUser.js';
import { portalChecksum } from '../support/portalChecksum.js';
import { customShape, djangoOrganizations, dropPortalSchema, laravelJetstream, type PortalAccount, type PortalShape } from '../support/portalShapes.js';
import { refusal } from '../support/refusal.js';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 5);

const SHAPES = [
  { name: 'laravel-jetstream', build: laravelJetstream },
  { name: 'django-organizations', build: djangoOrganizations },
  { name: 'custom', build: customShape },
] as const;

const usable = (a: PortalAccount) => a.active && !a.flags.some((f) => f === 'unknown-hash' || f === 'unusable-password' || f === 'duplicate-email');

describeEachDatabase('portal shapes (issue 19)', (getDb) => {
  for (const { name, build } of SHAPES) {
    describe(name, () => {
      let admin: Database;
      let runner: Database;
      let shape: PortalShape;
      let before: Awaited<ReturnType<typeof portalChecksum>>;
      let mfa: PortalMfa;
      let deps: MfaDeps;
      let now = T0;
      let dropUser: (() => Promise<void>) | undefined;
      const secrets = new Map<string, string>();

      const step = () => Math.floor(now / 30_000);
      const signIn = (a: PortalAccount, extra: Partial<Parameters<PortalMfa['signIn']>[0]['secondFactor']> = {}, email = a.email) =>
        mfa.signIn({ email, password: a.password, action: 'portal.login', secondFactor: extra });
      const withCode = (a: PortalAccount) => signIn(a, { proof: { kind: 'code', code: totpAt(secrets.get(a.key)!, step()) } });
      async function enrol(a: PortalAccount): Promise<Actor> {
        const actor = await signIn(a);
        const pending = await mfa.startEnrolment(actor, { password: a.password });
        await mfa.confirmEnrolment(actor, { code: totpAt(pending.secret, step()) });
        secrets.set(a.key, pending.secret);
        now += 30_000;
        return actor;
      }

      beforeAll(async () => {
        const url = getDb().url;
        admin = await openDatabase(parseDatabaseUrl(url), { create: true });
        const mysql = admin.dialect === 'mysql';
        const mfaDb = mysql ? new URL(url).pathname.slice(1) : undefined;
        const portalDb = mysql ? `${mfaDb}_p${randomBytes(2).toString('hex')}` : undefined;
        shape = await build(admin.knex, { schema: portalDb });
        before = await portalChecksum(admin.knex, shape.tables, { schema: shape.schema });
        if (mysql) {
          // the least-privilege account: SELECT on the mapped tables, everything on portal-mfa's database
          const lp = await leastPrivilegeUser(admin.knex, { portalDb: portalDb!, mfaDb, portalTables: mappedTables(shape.mapping) });
          dropUser = lp.drop;
          runner = await openDatabase(parseDatabaseUrl(lp.url));
        } else runner = admin;
        await migrateLatest(runner.store);
        const audit = { clock: () => now, origin: { host: 'test-host', osUser: 'tester' } };
        const mapping = await storeMapping(runner.store, audit, shape.mapping);
        const key = keyFromBase64(generateKeyBase64());
        deps = {
          db: makeDb(runner.knex, runner.store.prefix, mapping),
          clock: () => now,
          random: (n) => randomBytes(n),
          settings: { ...DEFAULT_SETTINGS },
          origin: { host: 'test-host', osUser: 'tester' },
          keyring: () => [key],
          queuedNotifications: [],
        };
        mfa = createPortalMfa(deps);
      });
      afterAll(async () => {
        if (runner && runner !== admin) await runner.close();
        await dropUser?.();
        if (shape?.schema && admin?.dialect === 'mysql') await dropPortalSchema(admin.knex, shape.schema);
        await admin?.close();
      });

      it('a member enrols with the password the portal already holds, verifies, and logs in again with a trusted device', async () => {
        const admin = shape.accounts.find((a) => usable(a) && !a.support && a.memberships.some((m) => m.admin))!;
        const org = admin.memberships.find((m) => m.admin)!.organisation;
        const member = shape.accounts.find(
          (a) => a !== admin && usable(a) && !a.support && a.memberships.some((m) => m.organisation === org) && !a.memberships.some((m) => m.admin),
        )!;
        expect(member, `${name}: a plain member of ${org}`).toBeDefined();
        const actor = await enrol(member);
        expect(actor.user.id).toBe(member.id);
        const v = await mfa.verifyCode(await signIn(member, { deferred: true }), { proof: { kind: 'code', code: totpAt(secrets.get(member.key)!, step()) } });
        expect(v.email).toBe(member.email);
        now += 30_000;
        const device = await mfa.trustThisDevice(await withCode(member), { label: 'laptop' });
        now += 30_000;
        const viaDevice = await signIn(member, { deviceToken: device.token });
        expect(viaDevice.factor).toBe('device');
      });

      it("the organisation's admin lists its members and disables one after re-entering the password", async () => {
        const admin = shape.accounts.find((a) => usable(a) && !a.support && a.memberships.some((m) => m.admin))!;
        const org = shape.organisation(admin.memberships.find((m) => m.admin)!.organisation);
        const member = shape.accounts.find((a) => secrets.has(a.key) && a.memberships.some((m) => m.organisation === org.key && !m.admin))!;
        const adminActor = await enrol(admin);
        const signedIn = await withCode(admin);
        const listed = await mfa.listMembers(signedIn, { orgSlug: org.slug, filter: {} });
        const rows = [];
        for await (const r of listed.members) rows.push(r);
        expect(rows.map((r) => r.userId).sort()).toEqual(
          shape.accounts
            .filter((a) => a.memberships.some((m) => m.organisation === org.key))
            .map((a) => a.id)
            .sort(),
        );
        expect(rows.find((r) => r.userId === member.id)?.mfa).toBe('active');
        now += 10 * 60_000; // the sign-in's password is no longer fresh: the disable asks again
        await refusal(mfa.disableMfa(signedIn, { targetEmail: member.email, orgSlug: org.slug }), 'missing_input');
        const done = await mfa.disableMfa(signedIn, { targetEmail: member.email, orgSlug: org.slug, password: admin.password });
        expect(done).toMatchObject({ kind: 'disabled', via: 'org-admin' });
        expect(adminActor.user.id).toBe(admin.id);
      });

      it('support resets an organisation admin on a ticket; the admin can only be reset by support', async () => {
        const support = shape.accounts.find((a) => a.support && usable(a))!;
        const admin = shape.accounts.find((a) => secrets.has(a.key) && a.memberships.some((m) => m.admin))!;
        const actor = await signIn(support);
        await refusal(mfa.disableMfa(actor, { targetEmail: admin.email, password: support.password }), 'ticket_required');
        const done = await mfa.disableMfa(actor, { targetEmail: admin.email, ticket: 'SUP-19', reason: 'lost phone', password: support.password });
        expect(done).toMatchObject({ kind: 'disabled', via: 'support', ticket: 'SUP-19' });
      });

      it('an account stored in mixed case is found by its lower-case email', async () => {
        const mixed = shape.accounts.find((a) => a.flags.includes('mixed-case-email'))!;
        const actor = await signIn(mixed, {}, mixed.email.toLowerCase());
        expect(actor.user.id).toBe(mixed.id);
      });

      it('an inactive account is refused; two accounts sharing an email are refused by name', async () => {
        const inactive = shape.accounts.find((a) => a.flags.includes('inactive'));
        if (inactive) await refusal(signIn(inactive), 'account_inactive');
        const dup = shape.accounts.find((a) => a.flags.includes('duplicate-email'));
        if (dup) await refusal(signIn(dup), 'ambiguous_account');
        expect(inactive || dup || name === 'laravel-jetstream').toBeTruthy();
      });

      it('an unknown hash format is a wrong password to the person and counted for operators by db check', async () => {
        const unknown = shape.accounts.find((a) => a.flags.includes('unknown-hash'));
        if (unknown) await refusal(signIn(unknown), 'wrong_password');
        const report = await checkPortal(deps.db, now);
        expect(report.usable, JSON.stringify(report.items)).toBe(true);
        expect(report.users).toBe(shape.accounts.length);
        if (unknown) expect(report.hashFormats.unknown ?? 0).toBeGreaterThan(0);
      });

      it("the portal's tables are byte-identical after every story", async () => {
        expect(await portalChecksum(admin.knex, shape.tables, { schema: shape.schema })).toEqual(before);
      });
    });
  }
});
