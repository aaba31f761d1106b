/**
 * Issue 9 ("prove or fix"): a `keys rotate` running alongside an enrolment may leave a secret under
 * the old key after reporting complete. Proven: an enrolment that encrypted with the old key and
 * commits after the rotation's pass went by its place left the row under the old key while the
 * rotation reported every secret done — an operator who then removes the old key (as docs/operator/keys.md
 * says to, once a rotation is complete) makes that user's secret unreadable. Fixed in two parts:
 * - the rotation, having made the new key the encrypting one (onComplete), re-scans from the start
 *   under its lock until no row has another key id;
 * - the CLI reads a key file again when it changed, so a process that started before the rotation
 *   finished encrypts with the current key rather than the one it read at start-up.
 * In-process with the real core and real databases; the interleaving is forced with the
 * rotation's own hook, so nothing depends on timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { writeKeyFile } from '../../src/cli/keySource.js';
import { startEnrolment } from '../../src/core/usecases/enrolment.js';
import { rotateKeys } from '../../src/core/usecases/keyRotation.js';
import { generateKeyBase64, keyFromBase64 } from '../../src/core/primitives/secretBox.js';
import { signIn } from '../../src/core/rules/actor.js';
import type { MfaDeps } from '../../src/core/deps.js';
import { describeRun, makeCliEnv, runCli } from '../support/cli.js';
import { describeEachDatabase } from '../support/databases.js';
import { DEVON, ERIN, FRANK, makeDeps, member } from '../support/scenario.js';
import { connect, seedFullMfa } from './helpers.js';
import type { IOStreams } from '../../src/cli/io.js';

/** Start an enrolment as the user themself (password re-entry included), with these deps' keyring. */
async function enrol(deps: MfaDeps, who: { email: string; password: string }): Promise<void> {
  const actor = await signIn(deps, { email: who.email, password: who.password, secondFactor: {}, action: 'mfa.enroll' });
  await startEnrolment(deps, actor, { password: who.password });
}

describeEachDatabase('keys rotate beside an enrolment', (getDb) => {
  let knex: Knex;
  const OLD = generateKeyBase64();
  const NEW = generateKeyBase64();
  const keyIdOf = (b64: string) => keyFromBase64(b64).id;
  const underOldKey = async () => Number((await knex('mfa_credentials').whereNot('key_id', keyIdOf(NEW)).count({ n: '*' }).first())?.n);

  beforeAll(async () => {
    const db = getDb();
    const env = makeCliEnv({ PORTAL_MFA_KEY: OLD }).env;
    for (const args of [
      ['db', 'migrate'],
      ['demo', '--members', '5'],
    ]) {
      const r = await runCli(['--db', db.url, ...args], { env, timeoutMs: 60_000 });
      expect(r.code, describeRun(r)).toBe(0);
    }
    knex = connect(db);
    await seedFullMfa(knex, [DEVON.email, ...[1, 2, 3, 4, 5].map((n) => member(n).email)], OLD);
  }, 120_000);
  afterAll(async () => {
    await knex?.destroy();
  });

  it('an enrolment that encrypted with the old key and commits after the rotation passed its place is re-encrypted before "complete"', async () => {
    const rotator = { ...makeDeps(knex, OLD, 'rotator'), keyring: () => [keyFromBase64(OLD), keyFromBase64(NEW)] };
    // a process that read the key before the rotation made the new key current
    const staleWriter = makeDeps(knex, OLD, 'enroller');
    let interleaved = false;
    const result = await rotateKeys(rotator, keyFromBase64(NEW), {
      batchSize: 2,
      onComplete: async () => {
        if (interleaved) return;
        interleaved = true;
        // the rotation's pass has gone by every row; the enrolment commits now
        await enrol(staleWriter, ERIN);
      },
    });
    expect(interleaved).toBe(true);
    expect(result.alreadyDone).toBe(false);
    expect(await underOldKey(), 'a secret was left under the old key after the rotation reported complete').toBe(0);
    expect(result.rotated).toBe(7); // six seeded secrets and erin's pending one
    // and erin's pending secret is readable with the new key alone
    const erin = await knex('users').where('email', ERIN.email).first('id');
    const pending = await knex('mfa_credentials')
      .where({ user_id: String(erin.id), status: 'pending' })
      .first();
    expect(pending.key_id).toBe(keyIdOf(NEW));
  });

  it('a rotation that finds nothing to do still catches a secret written under the old key as it completes', async () => {
    const NEWER = generateKeyBase64();
    const rotator = { ...makeDeps(knex, NEW, 'rotator'), keyring: () => [keyFromBase64(NEW), keyFromBase64(NEWER)] };
    // first move everything to NEWER, then rotate to NEWER again while a stale writer enrols
    await rotateKeys(rotator, keyFromBase64(NEWER));
    const stale = makeDeps(knex, NEW, 'enroller');
    const result = await rotateKeys(rotator, keyFromBase64(NEWER), {
      onComplete: async () => {
        await enrol(stale, FRANK);
      },
    });
    expect(result).toMatchObject({ rotated: 1, alreadyDone: false });
    expect(Number((await knex('mfa_credentials').whereNot('key_id', keyIdOf(NEWER)).count({ n: '*' }).first())?.n)).toBe(0);
  });
});

describe('the CLI reads a key file again when a rotation rewrote it', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-keyring-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a long-running process encrypts with the key that is first in the file now', () => {
    const file = path.join(dir, 'secrets.key');
    const k1 = generateKeyBase64();
    const k2 = generateKeyBase64();
    writeKeyFile(file, [k1]);
    const io = {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      stdinIsTTY: false,
      stdoutIsTTY: false,
      stderrIsTTY: false,
      canPrompt: false,
      color: false,
      colorErr: false,
    } as unknown as IOStreams;
    const ctx = createContext({ db: `sqlite:${path.join(dir, 'x.db')}`, keyFile: file }, { env: {}, io });
    expect(ctx.keyring()[0]!.id).toBe(keyFromBase64(k1).id);
    writeKeyFile(file, [k2, k1]); // what keys rotate does on completion
    expect(ctx.keyring().map((k) => k.id)).toEqual([keyFromBase64(k2).id, keyFromBase64(k1).id]);
  });
});
