/**
 * MFA state for the CLI integration suites, set up in-process through the public core API
 * (createPortalMfa) — never through repositories or internal helpers — so a fixture goes through
 * the same sign-in, authorisation, re-authentication and audit as the binary does.
 *
 * Codes: the binary runs on the test clock (test/support/clock.ts), so a fixture that needs TOTP codes runs on a clock ten
 * minutes in the past (steps the tests will never use in real time). Later fixtures that need a
 * fresh second factor (trusting a device after real-time codes were used) sign in with one of the
 * recovery codes the enrolment returned, which spends no TOTP step.
 */
import type { Knex } from 'knex';
import type { Actor } from '../../src/core/rules/actor.js';
import { createPortalMfa, type PortalMfa } from '../../src/core/api.js';
import type { MfaDeps } from '../../src/core/deps.js';
import type { SecondFactorProof } from '../../src/core/rules/secondFactor.js';
import type { IssuedDevice } from '../../src/core/rules/trustedDevices.js';
import type { PortalUser } from '../../src/core/domain.js';
import { findUserByEmail } from '../../src/core/rules/identity.js';
import { testNow } from './clock.js';
import { currentStep, totpAt } from './independentTotp.js';
import { makeDeps, type Account, type Totp } from './scenario.js';

/** An enrolled account: its secret, the last step the server accepted, and its unused recovery codes. */
export interface Enrolled extends Totp {
  recoveryCodes: string[];
}

export interface FullMfaOptions {
  /** also start a replacement (a pending second credential) */
  pendingReplacement?: boolean;
  /** label of the trusted device */
  label?: string;
}

interface FullMfa extends Enrolled {
  device: IssuedDevice;
  session: { token: string; expiresAt: number };
}

export interface Fixtures {
  deps: MfaDeps;
  /** the core API on the test clock */
  mfa: PortalMfa;
  /** the core API on another clock */
  at(clock: () => number): PortalMfa;
  user(a: Account): Promise<PortalUser>;
  /** sign in with the password and, for an account with MFA, the given proof */
  signIn(a: Account, proof?: SecondFactorProof, mfa?: PortalMfa): Promise<Actor>;
  /** enrol (start and confirm) with a code from ten minutes ago; the ten recovery codes are kept */
  enrol(a: Account): Promise<Enrolled>;
  /** trust a device for the account, signing in with one of its recovery codes (no TOTP step spent) */
  trustDevice(a: Account, e: Enrolled, label: string, mfa?: PortalMfa): Promise<IssuedDevice>;
  /** enrol (ten recovery codes), then — signed in with a code — trust a device and open a CLI session */
  giveFullMfa(a: Account, opts?: FullMfaOptions): Promise<FullMfa>;
}

const PAST_MS = 10 * 60_000;

export function makeFixtures(knex: Knex, keyB64: string, host: string): Fixtures {
  const deps = makeDeps(knex, keyB64, host);
  const at = (clock: () => number) => createPortalMfa({ ...deps, clock });
  const mfa = createPortalMfa(deps);
  const user = async (a: Account) => {
    const u = await findUserByEmail(deps.db, a.email);
    if (!u) throw new Error(`fixture: no user ${a.email}`);
    return u;
  };
  const signIn = (a: Account, proof?: SecondFactorProof, api: PortalMfa = mfa) =>
    api.signIn({ email: a.email, password: a.password, action: 'portal.login', secondFactor: proof ? { proof } : {} });

  async function enrolAt(a: Account, past: number): Promise<Enrolled> {
    const api = at(() => past);
    const actor = await signIn(a, undefined, api);
    const pending = await api.startEnrolment(actor, {});
    const step = currentStep(past);
    const confirmed = await api.confirmEnrolment(actor, { code: totpAt(pending.secret, step) });
    return { secret: pending.secret, last: step, recoveryCodes: [...confirmed.recoveryCodes] };
  }

  async function trustDevice(a: Account, e: Enrolled, label: string, api: PortalMfa = mfa): Promise<IssuedDevice> {
    const code = e.recoveryCodes.shift();
    if (code === undefined) throw new Error(`fixture: ${a.email} has no recovery code left`);
    const actor = await signIn(a, { kind: 'recovery-code', code }, api);
    return api.trustThisDevice(actor, { label });
  }

  async function giveFullMfa(a: Account, opts: FullMfaOptions = {}): Promise<FullMfa> {
    const past = testNow() - PAST_MS;
    const enrolled = await enrolAt(a, past);
    // thirty seconds later (still ten minutes ago) the next step signs in with a code
    const api = at(() => past + 30_000);
    enrolled.last += 1;
    const actor = await signIn(a, { kind: 'code', code: totpAt(enrolled.secret, enrolled.last) }, api);
    const device = await api.trustThisDevice(actor, { label: opts.label ?? `${a.email} laptop` });
    const session = await api.openSession(actor);
    if (opts.pendingReplacement) await api.startReplacement(actor, {});
    return { ...enrolled, device, session };
  }

  return {
    deps,
    mfa,
    at,
    user,
    signIn,
    enrol: (a) => enrolAt(a, testNow() - PAST_MS),
    trustDevice,
    giveFullMfa,
  };
}
