import type { Actor } from '../core/rules/actor.js';
import type { PortalMfa } from '../core/api.js';
import type { ConfirmedEnrolment, PendingEnrolment } from '../core/usecases/enrolment.js';
import { cancelled, isPortalMfaError, usageError } from '../core/errors.js';
import { groupSecret } from '../core/primitives/totp.js';
import type { QR_MODES } from './commands/flags.js';
import type { CommandContext } from './context.js';
import { describeDrift } from './describe.js';
import { commandLine } from './invocation.js';
import { chooseQr, qrModeOf, type QrMode } from './qr.js';
import { wrapWords } from './render.js';

/** Print what the phone needs: the manual key, a clock hint and the QR code that fits the terminal. */
export async function showPendingEnrolment(ctx: CommandContext, pending: PendingEnrolment, qr: QrMode): Promise<void> {
  const s = ctx.out.style;
  // with --json stdout carries the document only: what the phone needs goes to the terminal on stderr
  const w = (text: string) => (ctx.out.json ? ctx.io.stderr.write(text + '\n') : ctx.out.line(text));
  const shownOn = (ctx.out.json ? ctx.io.stderr : ctx.io.stdout) as { columns?: number; rows?: number };
  const onTerminal = ctx.out.json ? ctx.io.stderrIsTTY : ctx.io.stdoutIsTTY;
  const columns = onTerminal ? shownOn.columns : undefined;
  // The QR code comes last, right above the code prompt, so it is what stays on the screen.
  // Prose is wrapped between words and the key between groups: the terminal never breaks either.
  for (const line of wrapWords('Key for manual entry (time-based, 6 digits, 30 seconds):', columns)) w(line);
  for (const line of keyLines(groupSecret(pending.secret), columns)) w(`  ${s.bold(line)}`);
  for (const line of wrapWords(`Hint: the phone's clock must be right — set it to update automatically.`, columns)) w(s.dim(line));
  const choice = await chooseQr(pending.otpauthUri, qr, { columns, rows: onTerminal ? shownOn.rows : undefined, color: ctx.io.color });
  if (!choice) return;
  // the note comes first: never after a QR code it would push off the screen
  if (choice.note) ctx.out.warn(wrapWords(choice.note, columns === undefined ? undefined : columns - 'warning: '.length).join('\n'));
  if (!choice.print) return;
  for (const line of wrapWords(`Scan with Google Authenticator, Authy, LastPass Authenticator or any TOTP app:`, columns)) w(line);
  w(choice.print.text);
}

/** The grouped key ("ABCD EFGH …") in lines that fit the terminal, broken only between groups. */
export function keyLines(grouped: string, columns: number | undefined, indent = 2): string[] {
  return wrapWords(grouped, columns === undefined ? undefined : Math.max(4, columns - indent));
}

/** `--confirm CODE` (a string), `--no-confirm` (false), or neither: enroll's and replace's modes; `--qr`. */
interface EnrolmentFlags {
  confirm?: string | boolean;
  qr?: (typeof QR_MODES)[number];
}

/**
 * enroll / replace flags, checked before anything touches the database. Without --confirm or
 * --no-confirm the code is typed at a prompt, which needs a terminal. (A malformed --confirm code
 * is the core's usage error, exit 2.)
 */
export function parseEnrolmentFlags(ctx: CommandContext, opts: EnrolmentFlags, withoutTerminal: { message: string; hint: string }) {
  const confirmCode = typeof opts.confirm === 'string' ? opts.confirm : undefined;
  const noConfirm = opts.confirm === false;
  const qr = qrModeOf(opts.qr, ctx.io.stdoutIsTTY);
  if (confirmCode === undefined && !noConfirm && !ctx.io.canPrompt) throw usageError(withoutTerminal.message, { hint: withoutTerminal.hint });
  return { confirmCode, noConfirm, qr };
}

const MAX_ATTEMPTS = 5;

/**
 * The interactive half of enrolment (rule 3, and the new-device half of rule 7): QR + key, then
 * codes until one confirms. Abandoning (Ctrl-C, or too many wrong codes) leaves the enrolment
 * pending and the previous state in force.
 */
export async function confirmInteractively(
  ctx: CommandContext,
  mfa: PortalMfa,
  actor: Actor,
  pending: PendingEnrolment,
  qr: QrMode,
): Promise<ConfirmedEnrolment> {
  await showPendingEnrolment(ctx, pending, qr);
  for (let attempt = 1; ; attempt++) {
    let raw: string;
    try {
      raw = await ctx.prompter.input('Code from the app:', 'use enroll --no-confirm --json, then enroll --confirm CODE');
    } catch (e) {
      if (isPortalMfaError(e) && e.kind === 'cancelled') throw leftPending(ctx, actor.user.email, pending.replacing);
      throw e;
    }
    try {
      const result = await mfa.confirmEnrolment(actor, { code: raw });
      ctx.out.success(`${pending.replacing ? 'new device active' : 'MFA is active'} for ${actor.user.email} (${describeDrift(result.driftSteps)})`);
      if (result.recoveryCodes.length > 0) showRecoveryCodes(ctx, result.recoveryCodes);
      return result;
    } catch (e) {
      if (!isPortalMfaError(e) || (e.kind !== 'rejected' && e.kind !== 'usage') || attempt >= MAX_ATTEMPTS) throw e;
      ctx.out.errorLine(e.message, e.hint);
    }
  }
}

/**
 * Ctrl-C at the code prompt: the state the account is left in, and the ways on (exit 130) — each a
 * command to paste as it is: it carries this run's --as/--profile/--db, and `--confirm -` asks for
 * the code on a terminal (or reads it from stdin).
 */
function leftPending(ctx: CommandContext, email: string, replacing: boolean | undefined) {
  const run = (rest: string) => commandLine(ctx, rest);
  if (replacing) {
    return cancelled(`cancelled: the new device for ${email} is left pending; the old device still works`, {
      hint: `finish with: ${run('replace --confirm -')} (it asks for a code from the new device); or start over with: ${run('replace')}`,
    });
  }
  return cancelled(`cancelled: the enrolment of ${email} is left pending (MFA is not active)`, {
    hint: `finish with: ${run('enroll --confirm -')} (it asks for the code from the app); start over with: ${run('enroll')}; or cancel it with: ${run('disable')}`,
  });
}

/** Recovery codes are shown once, on stdout, with what they are for. */
export function showRecoveryCodes(ctx: CommandContext, codes: string[]): void {
  if (ctx.out.json) return;
  const w = (text: string) => ctx.out.line(text);
  w('');
  w(ctx.out.style.bold('Recovery codes') + ' — each works once in place of a code (--recovery-code). Store them safely; they are not shown again:');
  for (let i = 0; i < codes.length; i += 2) w(`  ${codes[i]}    ${codes[i + 1] ?? ''}`.trimEnd());
}
