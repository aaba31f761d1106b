/**
 * SPEC §9: the package is importable by its name from a portal backend. A separate Node process
 * (so Node's own package resolution and the published `exports` are used, not the test runner's)
 * imports 'portal-mfa', and runs enrol → confirm → verify → replay refused on a migrated database.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import knexFactory from 'knex';
import { expect, it } from 'vitest';
import { createDemoTables } from '../../src/db/demoSeeder.js';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { REPO_ROOT } from '../support/cli.js';

const run = promisify(execFile);

const SCRIPT = `
import { createHmac, randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { hashSync } from '@node-rs/bcrypt';
import { openPortalMfa, isPortalMfaError } from 'portal-mfa';

const [dbFile, keyB64] = process.argv.slice(2);
// an independent RFC 6238 implementation (the portal's phone)
const b32 = (s) => { let bits = ''; for (const c of s) bits += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c).toString(2).padStart(5, '0'); return Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2))); };
const totp = (secret, step) => { const msg = Buffer.alloc(8); msg.writeBigUInt64BE(BigInt(step)); const h = createHmac('sha1', b32(secret)).update(msg).digest(); const o = h[19] & 15; return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0'); };

let now = Date.UTC(2026, 11, 1, 9, 0, 5);
const mfa = await openPortalMfa({ databaseUrl: 'sqlite:' + dbFile, keys: [keyB64], clock: () => now });
const k = knexFactory({ client: 'better-sqlite3', connection: { filename: dbFile }, useNullAsDefault: true });
await k('users').insert({ email: 'pat@example.com', name: 'Pat', password_hash: hashSync('pat-pass', 4), role: 'developer', created_at: now });
await k.destroy();

const actor = await mfa.signIn({ email: 'pat@example.com', password: 'pat-pass', action: 'portal.login', secondFactor: {} });
const pending = await mfa.startEnrolment(actor, {});
const step = () => Math.floor(now / 30000);
const confirmed = await mfa.confirmEnrolment(actor, { code: totp(pending.secret, step()) });
now += 30000;
const code = totp(pending.secret, step());
const again = await mfa.signIn({ email: 'pat@example.com', password: 'pat-pass', action: 'portal.login', secondFactor: { proof: { kind: 'code', code } } });
let replay = null;
try {
  await mfa.signIn({ email: 'pat@example.com', password: 'pat-pass', action: 'portal.login', secondFactor: { proof: { kind: 'code', code } } });
} catch (e) {
  replay = isPortalMfaError(e) ? { kind: e.kind, code: e.code } : String(e);
}
console.log(JSON.stringify({ recoveryCodes: confirmed.recoveryCodes.length, factor: again.factor, replay }));
await mfa.close();
`;

it("imports 'portal-mfa' by name: enrol → confirm → verify → replay refused", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-lib-'));
  const dbFile = path.join(dir, 'portal.db');
  const key = (await import('node:crypto')).randomBytes(32).toString('base64');
  await run(process.execPath, [path.join(REPO_ROOT, 'bin', 'portal-mfa.js'), '--db', `sqlite:${dbFile}`, 'db', 'migrate'], {
    env: { ...process.env, PORTAL_MFA_KEY: key },
  });
  // the portal's own user tables (the demo portal's shape) and the identity mapping stored for them,
  // as the operator's set-up leaves them: portal-mfa only reads the portal's users
  const k = knexFactory({ client: 'better-sqlite3', connection: { filename: dbFile }, useNullAsDefault: true });
  try {
    expect(await createDemoTables(k)).toBe(true);
    await k('mfa_settings').insert({ name: 'identity', value: JSON.stringify(DEMO_MAPPING), updated_at: Date.now(), updated_by: 'test' });
  } finally {
    await k.destroy();
  }
  // the script lives inside the package so that Node resolves 'portal-mfa' by self-reference through "exports"
  const script = path.join(REPO_ROOT, 'dist', `library-check-${process.pid}.mjs`);
  writeFileSync(script, SCRIPT);
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, [script, dbFile, key], { cwd: REPO_ROOT }));
  } finally {
    rmSync(script, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  expect(JSON.parse(stdout.trim())).toEqual({ recoveryCodes: 10, factor: 'code', replay: { kind: 'rejected', code: 'replayed_code' } });
}, 60_000);
