import { endSession, findValidSession, insertSession } from '../db/sessionRepository.js';
import { findUserByEmail, findUserById, membershipsOfUser, type MembershipRow, type UserRow } from '../db/userRepository.js';
import { recordAudit, type AuditParty } from './audit.js';
import type { MfaDeps } from './deps.js';
import { rejected } from './errors.js';
import { verifyPassword } from './passwords.js';
import { hashToken, newToken } from './tokens.js';
import { party } from './verification.js';

/**
 * First factor. The same message, and a bcrypt comparison either way, whether or not the user
 * exists, so the answer does not reveal which emails have accounts.
 */
export async function authenticatePassword(
  deps: MfaDeps,
  email: string,
  password: string,
  opts: { action: string },
): Promise<UserRow> {
  const user = await findUserByEmail(deps.knex, email);
  const ok = await verifyPassword(password, user?.password_hash ?? null);
  if (!user || !ok) {
    if (user) await recordAudit(deps.knex, deps, { action: opts.action, outcome: 'failure', actor: party(user), target: party(user), reason: 'wrong password' });
    throw rejected('wrong email or password');
  }
  return user;
}

/** Re-entry of the acting person's password before a sensitive action (SPEC §2). */
export async function confirmPassword(deps: MfaDeps, actor: UserRow, password: string, action: string): Promise<void> {
  if (!(await verifyPassword(password, actor.password_hash))) {
    await recordAudit(deps.knex, deps, { action, outcome: 'failure', actor: party(actor), reason: 'wrong password on re-entry' });
    throw rejected('wrong password');
  }
}

export interface EnforcementState {
  /** organisations that require MFA now (grace over) */
  requiredBy: MembershipRow[];
  /** organisations that will require it when their grace period ends */
  inGrace: { membership: MembershipRow; until: number }[];
  /** false when any of the user's organisations turned device trust off */
  deviceTrustAllowed: boolean;
}

const DAY_MS = 86_400_000;

/** Rule 4: which of the user's organisations require MFA, honouring grace periods. */
export async function enforcementFor(deps: MfaDeps, userId: number): Promise<EnforcementState> {
  const memberships = await membershipsOfUser(deps.knex, userId);
  const now = deps.clock();
  const requiredBy: MembershipRow[] = [];
  const inGrace: { membership: MembershipRow; until: number }[] = [];
  for (const m of memberships) {
    if (!m.mfa_required) continue;
    const until = m.grace_days && m.mfa_required_since !== null ? m.mfa_required_since + m.grace_days * DAY_MS : null;
    if (until !== null && until > now) inGrace.push({ membership: m, until });
    else requiredBy.push(m);
  }
  return { requiredBy, inGrace, deviceTrustAllowed: memberships.every((m) => m.device_trust_allowed) };
}

export async function createSession(deps: MfaDeps, user: UserRow, detail: Record<string, unknown>): Promise<{ token: string; expiresAt: number }> {
  const token = newToken(deps.random);
  const now = deps.clock();
  const expiresAt = now + deps.settings.sessionHours * 3_600_000;
  await deps.knex.transaction(async (trx) => {
    await insertSession(trx, {
      user_id: user.id,
      token_hash: hashToken(token),
      created_at: now,
      expires_at: expiresAt,
      host: deps.origin.host.slice(0, 255),
      os_user: deps.origin.osUser.slice(0, 255),
    });
    await recordAudit(trx, deps, { action: 'session.login', outcome: 'success', actor: party(user), target: party(user), detail });
  });
  return { token, expiresAt };
}

/** The user behind a CLI session token, if the session is still valid (checked in the database). */
export async function sessionUser(deps: MfaDeps, token: string): Promise<UserRow | undefined> {
  const session = await findValidSession(deps.knex, hashToken(token), deps.clock());
  if (!session) return undefined;
  return findUserById(deps.knex, session.user_id);
}

export async function logout(deps: MfaDeps, token: string, actor: AuditParty | null): Promise<boolean> {
  const ended = await endSession(deps.knex, hashToken(token), deps.clock());
  if (ended) await recordAudit(deps.knex, deps, { action: 'session.logout', outcome: 'success', actor, target: actor });
  return ended;
}

