/**
 * SPEC §1 rule 13: an email is compared after Unicode NFC normalisation and lower-casing, the same
 * on every database. The tool folds what it is given (`--as`, `--user`, lists) and stores folded
 * emails (migration 20261201000001_email_nfc folds existing rows and makes MySQL/MariaDB compare the
 * column byte for byte), so every lookup is one exact, indexed comparison.
 */

/**
 * Invisible characters that have no place in an email and would let two different addresses look
 * the same on screen: bidirectional overrides, embeddings, isolates and marks, zero-width characters,
 * the soft hyphen, word joiner and invisible operators, the BOM, line and paragraph separators.
 */
const INVISIBLE = '\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff';
/** An email as the portal stores it: one @, a dot in the domain, no spaces, control or invisible characters. */
const EMAIL_RE = new RegExp(
  `^[^\\s@\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE}]+@[^\\s@\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE}]+\\.[^\\s@\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE}]+$`,
  'u',
);

/**
 * The comparison form of an email as text: NFC, lower-cased, NFC again (lower-casing can leave a
 * sequence that is not NFC, e.g. U+0130 becomes i + U+0307). Not trimmed, not validated: this is
 * what a stored value is folded to.
 */
export function foldEmail(text: string): string {
  return text.normalize('NFC').toLowerCase().normalize('NFC');
}

/** The canonical form of an email (trimmed and folded), or null when it is not one. */
export function normaliseEmail(raw: string): string | null {
  const email = foldEmail(raw.trim());
  return email.length > 0 && email.length <= 254 && EMAIL_RE.test(email) ? email : null;
}
