import type { Actor } from '../core/actor.js';
import type { PortalMfa } from '../core/api.js';
import type { ConfirmedEnrolment, PendingEnrolment } from '../core/enrolment.js';
import { cancelled, isPortalMfaError, usageError } from '../core/errors.js';
import { groupSecret } from '../core/totp.js';
import { parseCode } from '../core/verification.js';
import type { CommandContext } from './context.js';
import { describeDrift } from './describe.js';
import { parseQrMode, renderQr, type QrMode } from './qr.js';

/** Print what the phone needs: the QR code (on a terminal), the manual key and a clock hint. */
export async function showPendingEnrolment(ctx: CommandContext, pending: PendingEnrolment, qr: QrMode): Promise<void> {
  const s = ctx.out.style;
  // with --json stdout carries the document only: what the phone needs goes to the terminal on stderr
  const w = (text: string) => (ctx.out.json ? ctx.io.stderr.write(text + '\n') : ctx.out.line(text));
  // The QR code comes last, right above the code prompt, so it is what stays on the screen.
  w(`Key for manual entry (time-based, 6 digits, 30 seconds):  ${s.bold(groupSecret(pending.secret))}`);
  w(s.dim(`Hint: the phone's clock must be right — set it to update automatically.`));
  if (qr === 'none') return;
  const code = await renderQr(pending.otpauthUri, qr);
  const lines = code.split('\n').length;
  const rows = (ctx.io.stdout as { rows?: number }).rows;
  if (rows !== undefined && rows < lines + 2) {
    w(ctx.out.style.yellow(`The QR code needs ${lines + 2} lines; this terminal has ${rows}: enlarge it (or scroll up) to scan.`));
  }
  w(`Scan with Google Authenticator, Authy, LastPass Authenticator or any TOTP app:`);
  w(code);
}

/** `--confirm CODE` (a string), `--no-confirm` (false), or neither: enroll's and replace's modes. */
export interface EnrolmentFlags {
  confirm?: string | false;
  qr?: string;
}

/**
 * enroll / replace flags, validated before anything touches the database. Without --confirm or
 * --no-confirm the code is typed at a prompt, which needs a terminal.
 */
export function parseEnrolmentFlags(ctx: CommandContext, opts: EnrolmentFlags, withoutTerminal: { message: string; hint: string }) {
  const confirmCode = typeof opts.confirm === 'string' ? opts.confirm : undefined;
  if (confirmCode !== undefined && confirmCode !== '-') parseCode(confirmCode);
  const noConfirm = opts.confirm === false;
  const qr = parseQrMode(opts.qr, ctx.io.stdoutIsTTY);
  if (confirmCode === undefined && !noConfirm && !ctx.io.canPrompt) throw usageError(withoutTerminal.message, { hint: withoutTerminal.hint });
  return { confirmCode, noConfirm, qr };
}

const MAX_ATTEMPTS = 5;

/**
 * The interactive half of enrolment (rule 3, and the new-device half of rule 7): QR + key, then
 * codes until one confirms. Abandoning (Ctrl-C, or too many wrong codes) leaves the enrolment
 * pending and the previous state in force.
 */
export async function confirmInteractively(ctx: CommandContext, mfa: PortalMfa, actor: Actor, pending: PendingEnrolment, qr: QrMode): Promise<ConfirmedEnrolment> {
  await showPendingEnrolment(ctx, pending, qr);
  const resume = pending.replacing ? 'portal-mfa replace --confirm -' : 'portal-mfa enroll --confirm -';
  for (let attempt = 1; ; attempt++) {
    let raw: string;
    try {
      raw = await ctx.prompter.input('Code from the app:', 'use enroll --no-confirm --json, then enroll --confirm CODE');
    } catch (e) {
      if (isPortalMfaError(e) && e.kind === 'cancelled') {
        throw cancelled(`cancelled: the ${pending.replacing ? 'new device' : 'enrolment'} is left pending and ${pending.replacing ? 'the old device still works' : 'MFA is not active'}`, {
          hint: `finish with ${resume} (a code from the app on stdin), or start over`,
        });
      }
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

/** Recovery codes are shown once, on stdout, with what they are for. */
export function showRecoveryCodes(ctx: CommandContext, codes: string[]): void {
  if (ctx.out.json) return;
  const w = (text: string) => ctx.out.line(text);
  w('');
  w(ctx.out.style.bold('Recovery codes') + ' — each works once in place of a code (--recovery-code). Store them safely; they are not shown again:');
  for (let i = 0; i < codes.length; i += 2) w(`  ${codes[i]}    ${codes[i + 1] ?? ''}`.trimEnd());
}
