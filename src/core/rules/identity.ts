/**
 * Finding a portal account by what a person typed (SPEC §1 rule 13, §5): the email folded (NFC +
 * lower case) and compared with the portal's emails folded the same way, or a portal id written
 * `id:ID` (support's way to act on one of two accounts that fold together). Two accounts that fold
 * to the same email are never merged: the lookup refuses, naming them.
 */
import { findUserById, findUsersByEmailKey } from '../../db/identity/reader.js';
import type { Db } from '../../db/store.js';
import type { PortalUser } from '../domain.js';
import { foldEmail } from '../primitives/email.js';
import { wrongState } from '../errors.js';

export async function findUserByEmail(db: Db, email: string): Promise<PortalUser | undefined> {
  if (email.startsWith('id:')) return findUserById(db, email.slice(3));
  const found = await findUsersByEmailKey(db, email);
  if (found.length > 1) throw ambiguousAccount(email, found);
  return found[0];
}

export function ambiguousAccount(email: string, accounts: PortalUser[]) {
  return wrongState(`${email} belongs to ${accounts.length} portal accounts (ids ${accounts.map((a) => a.id).join(', ')}): they are never merged`, {
    code: 'ambiguous_account',
    hint: `the portal must give each account its own email; support can act on one with --user id:${accounts[0]!.id}`,
    details: { userIds: accounts.map((a) => a.id) },
  });
}

/**
 * Is `typed` (a parsed email: trimmed and folded) the user's own address? The portal may store it
 * in another case or Unicode form (rule 13), so naming oneself in any spelling is acting on oneself.
 */
export function isOwnEmail(user: PortalUser, typed: string): boolean {
  return typed.startsWith('id:') ? typed.slice(3) === user.id : foldEmail(user.email.trim()) === typed;
}

export { findUserById };
