import { PortalMfaError } from '../core/errors.js';
import { maskDatabaseUrl } from '../db/url.js';
import type { CommandContext } from './context.js';

/**
 * Commands printed for the person to run next (hints, notes, the demo's examples) are commands they
 * can paste: they carry the global flags this run was given on its command line — `--profile`,
 * `--db`, `--key-file` and, for the same person, `--as` — so the pasted command reaches the same
 * database as the same user. What came from the environment or the profile is still there for the
 * next command and is not repeated. Never a secret: a password in a `--db` URL is shown as ***.
 */
export function carriedFlags(ctx: Pick<CommandContext, 'typed'>, opts: { as?: boolean } = {}): string[] {
  const t = ctx.typed;
  const out: string[] = [];
  if (t.profile !== undefined) out.push('--profile', shellWord(t.profile));
  if (t.db !== undefined) out.push('--db', shellWord(maskDatabaseUrl(t.db)));
  if (t.keyFile !== undefined) out.push('--key-file', shellWord(t.keyFile));
  if (opts.as !== false && t.as !== undefined) out.push('--as', shellWord(t.as));
  return out;
}

/** `portal-mfa` with the carried flags, then `rest` (e.g. `enroll --confirm -`). */
export function commandLine(ctx: Pick<CommandContext, 'typed'>, rest: string, opts: { as?: boolean } = {}): string {
  return ['portal-mfa', ...carriedFlags(ctx, opts), rest].join(' ');
}

/** A value as a POSIX shell reads it back: bare when it is plainly safe, else in single quotes. */
export function shellWord(value: string): string {
  if (/^[A-Za-z0-9@%+=:,./_-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A hint's commands are for the person at the keyboard unless the clause names someone else
 * ("support sets it with: portal-mfa policy set …", "the user runs portal-mfa login …"): those
 * are left as they are, since that person runs them elsewhere, as themself.
 */
const FOR_SOMEONE_ELSE = /\b(support|admins?|the user)\b[^,;()]*$/i;

/** Every `portal-mfa …` in `text` meant for this person, with the carried flags after `portal-mfa`. */
export function pasteable(ctx: Pick<CommandContext, 'typed'>, text: string): string {
  const flags = carriedFlags(ctx).join(' ');
  if (flags === '') return text;
  return text.replace(/(?<![\w/-])portal-mfa (?=[a-z-])/g, (m, offset: number) =>
    // (a command made with commandLine carries them already)
    FOR_SOMEONE_ELSE.test(text.slice(0, offset)) || text.startsWith(flags, offset + m.length) ? m : `portal-mfa ${flags} `,
  );
}

/** The error with its hint made pasteable (the core's hints name commands without this run's flags). */
export function withPasteableHint(ctx: Pick<CommandContext, 'typed'>, e: PortalMfaError): PortalMfaError {
  if (!e.hint) return e;
  const hint = pasteable(ctx, e.hint);
  if (hint === e.hint) return e;
  return new PortalMfaError(e.kind, e.message, { code: e.code, hint, details: e.details, cause: e.cause });
}
