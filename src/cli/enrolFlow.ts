import type { Actor } from '../core/rules/actor.js';
import type { PortalMfa } from '../core/api.js';
import type { ConfirmedEnrolment, PendingEnrolment } from '../core/usecases/enrolment.js';
import { cancelled, isPortalMfaError, usageError } from '../core/errors.js';
import { groupSecret } from '../core/primitives/totp.js';
import type { QR_MODES } from './commands/flags.js';
import type { CommandContext } from './context.js';
import { describeDrift } from './describe.js';
import { commandLine } from './invocation.js';
import { type EnrolmentLayout, layoutEnrolment, qrModeOf, type QrMode, type QrModules, qrModules } from './qr.js';
import { wrapWords } from './render.js';

/**
 * What the phone needs on the screen, and the code prompt under it (issue 23): the QR code that
 * fits the terminal with the manual key below or beside it, all on the screen at once with the
 * prompt. While the prompt waits, a resized window gets the layout that fits it now: the prompt is
 * put away, the code and key drawn again, and the same prompt asked again — the enrolment is never
 * lost to the window's size.
 */
class EnrolmentDisplay {
  private shape = '';
  private promptPrefix = '';

  private constructor(
    private readonly ctx: CommandContext,
    private readonly pending: PendingEnrolment,
    private readonly qr: QrMode,
    private readonly modules: QrModules | undefined,
  ) {}

  static async show(ctx: CommandContext, pending: PendingEnrolment, qr: QrMode): Promise<EnrolmentDisplay> {
    const display = new EnrolmentDisplay(ctx, pending, qr, qr === 'none' ? undefined : await qrModules(pending.otpauthUri));
    display.print(display.layout(), true);
    return display;
  }

  /** Where the display is shown: with --json stdout carries the document only, so the terminal on stderr. */
  private get terminal(): { stream: NodeJS.WritableStream & { columns?: number; rows?: number }; isTTY: boolean } {
    const ctx = this.ctx;
    return ctx.out.json ? { stream: ctx.io.stderr, isTTY: ctx.io.stderrIsTTY } : { stream: ctx.io.stdout, isTTY: ctx.io.stdoutIsTTY };
  }

  private layout(): EnrolmentLayout {
    const { stream, isTTY } = this.terminal;
    const key = { grouped: groupSecret(this.pending.secret), style: this.ctx.out.style.bold };
    return layoutEnrolment(this.modules, key, this.qr, {
      columns: isTTY ? stream.columns : undefined,
      rows: isTTY ? stream.rows : undefined,
      color: this.ctx.io.color,
    });
  }

  private print(layout: EnrolmentLayout, first: boolean): void {
    const ctx = this.ctx;
    const columns = this.terminal.isTTY ? this.terminal.stream.columns : undefined;
    const w = (text: string) => (ctx.out.json ? ctx.io.stderr.write(text + '\n') : ctx.out.line(text));
    // Prose first (it may scroll off), then the code, the key and the prompt, which must stay on screen.
    // Prose is wrapped between words and the key between groups: the terminal never breaks either.
    if (first) {
      const intro =
        layout.shape === 'key'
          ? 'Type this key into Google Authenticator, Authy, LastPass Authenticator or any TOTP app'
          : 'Scan the QR code with Google Authenticator, Authy, LastPass Authenticator or any TOTP app, or type the key';
      for (const line of wrapWords(`${intro} (time-based, 6 digits, 30 seconds).`, columns)) w(line);
      for (const line of wrapWords(`Hint: the phone's clock must be right — set it to update automatically.`, columns)) w(ctx.out.style.dim(line));
    }
    // the note comes first: never after a QR code it would push off the screen
    if (layout.note) ctx.out.warn(layout.note);
    for (const line of layout.lines) w(line);
    this.shape = layout.shape;
    this.promptPrefix = layout.promptPrefix;
  }

  /** Printed without a prompt (--no-confirm): the code's last half row is a line of its own. */
  finish(): void {
    if (this.promptPrefix === '') return;
    if (this.ctx.out.json) this.ctx.io.stderr.write(this.promptPrefix + '\n');
    else this.ctx.out.line(this.promptPrefix);
    this.promptPrefix = '';
  }

  /** Ask for a code under the display; a resize that changes the layout redraws it and asks again. */
  async ask(message: string, hint: string): Promise<string> {
    const { stream } = this.terminal;
    for (;;) {
      const abort = new AbortController();
      let redraw: EnrolmentLayout | undefined;
      let timer: NodeJS.Timeout | undefined;
      // a window being dragged sends many resizes: act on the size it settles at
      const onResize = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const next = this.layout();
          if (next.shape === this.shape && next.promptPrefix === this.promptPrefix) return;
          redraw = next;
          abort.abort();
        }, RESIZE_SETTLE_MS);
      };
      stream.on('resize', onResize);
      try {
        return await this.ctx.prompter.input(message, hint, { prefix: this.promptPrefix || undefined, signal: abort.signal });
      } catch (e) {
        if (!redraw) throw e;
        this.print(redraw, false);
      } finally {
        clearTimeout(timer);
        stream.off('resize', onResize);
      }
    }
  }
}

/** How long a window's size must hold before the display is drawn again for it. */
const RESIZE_SETTLE_MS = 150;

/** Print what the phone needs without a prompt under it (--no-confirm on a terminal). */
export async function showPendingEnrolment(ctx: CommandContext, pending: PendingEnrolment, qr: QrMode): Promise<void> {
  (await EnrolmentDisplay.show(ctx, pending, qr)).finish();
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
  const display = await EnrolmentDisplay.show(ctx, pending, qr);
  for (let attempt = 1; ; attempt++) {
    let raw: string;
    try {
      raw = await display.ask('Code from the app:', 'use enroll --no-confirm --json, then enroll --confirm CODE');
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
  // broken between words at the terminal's width, then the title made bold
  const intro = wrapWords(
    'Recovery codes — each works once in place of a code (--recovery-code). Store them safely; they are not shown again:',
    ctx.io.columns,
  );
  intro[0] = intro[0]!.replace('Recovery codes', ctx.out.style.bold('Recovery codes'));
  for (const line of intro) w(line);
  for (let i = 0; i < codes.length; i += 2) w(`  ${codes[i]}    ${codes[i + 1] ?? ''}`.trimEnd());
}
