import { InvalidArgumentError, Option } from '@commander-js/extra-typings';

/**
 * The flags commands share, and the flag values commander checks while it parses (before any run
 * function, so a bad value changes nothing): the choices of enumerated flags and the parsers of
 * numbers and ages. A failure is commander's one-line usage error, exit 2 (src/cli/main.ts). Values
 * whose rules are the product's (emails, slugs, codes, tickets, reasons, audit actions, access-code
 * limits) are checked by the core.
 */

/** The options a command definition declares, as its run function receives them (inferred by @commander-js/extra-typings). */
export type OptionsOf<Define extends (...args: never[]) => { opts(): unknown }> = ReturnType<ReturnType<Define>['opts']>;

export const QR_MODES = ['utf8', 'ansi', 'none'] as const;
export const MFA_FILTERS = ['on', 'off', 'pending'] as const;
export const ON_OFF = ['on', 'off'] as const;
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export const NOTICE_STATUSES = ['pending', 'sent', 'failed'] as const;
/** `--limit` of the notify commands. */
export const NOTICE_LIMIT = { min: 1, max: 1_000_000 };

/*
 * Flags several commands declare: one spelling, one value name and so one option type everywhere.
 * Chained with `.addOption(…)`, so a definition still reads in the order its help lists the flags.
 */

/** `--org SLUG`: the organisation a support rep or an organisation admin acts in (or, with its own help, filters by). */
export const orgOption = (help = 'the organisation you act in (organisation admins)') => new Option('--org <slug>', help);

/** The `--org` of the org commands, which default to the one organisation the actor administers. */
export const ADMINISTERED_ORG = 'the organisation (default: the one you administer)';

/** `--ticket REF`: the support ticket behind a change, for the audit trail (always with `reasonOption`). */
export const ticketOption = (help = 'support ticket reference (required for support)') => new Option('--ticket <ticket>', help);

/** `--reason TEXT`: why, for the audit trail. */
export const reasonOption = () => new Option('--reason <reason>', 'why, for the audit trail');

/** `--dry-run`: the help says what the command would do. */
export const dryRunOption = (help: string) => new Option('--dry-run', help);

/** `--csv` of the reports. */
export const csvOption = (help = 'RFC 4180 CSV with a header row (formula-safe)') => new Option('--csv', help);

/** `--qr MODE` of the commands that show an enrolment's QR code. */
/** `--no-pager` of the commands whose human output is paged on a terminal (io.ts startPager). */
export const pagerOption = () => new Option('--no-pager', 'print straight to the terminal, not through $PAGER / less');

export const qrOption = (help: string) => new Option('--qr <mode>', help).choices(QR_MODES);

/**
 * A whole number in ASCII digits (no sign, fraction, exponent or hex), from min to max when a range
 * is given (without one, the range is the core's rule: access-code minutes and uses).
 */
export function wholeNumber(range?: { min: number; max: number }): (raw: string) => number {
  return (raw) => {
    const text = raw.trim();
    const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
    if (Number.isNaN(n) || (range && (n < range.min || n > range.max))) {
      throw new InvalidArgumentError(range ? `Expected a whole number from ${range.min} to ${range.max}.` : 'Expected a whole number.');
    }
    return n;
  };
}

/** A whole number, each value of a variadic argument (`devices revoke ID…`). */
export function wholeNumbers(what: string, hint: string): (raw: string, previous: number[]) => number[] {
  return (raw, previous) => {
    const text = raw.trim();
    if (!/^\d{1,12}$/.test(text)) throw new InvalidArgumentError(`Not ${what}: ${hint}.`);
    return [...(previous ?? []), Number(text)];
  };
}

/** `--since`: an age back from now, or a point in time. */
export type Since = { ageMs: number } | { at: number };

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `24h`, `7d`, or an ISO-8601 date / date-time (UTC unless it names an offset). */
export function parseSince(raw: string): Since {
  const text = raw.trim();
  const rel = /^(\d{1,6})([mhd])$/.exec(text);
  if (rel) return { ageMs: Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS] };
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const iso = text.length === 10 ? `${text}T00:00:00Z` : /Z|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`;
    const at = Date.parse(iso.replace(' ', 'T'));
    if (!Number.isNaN(at)) return { at };
  }
  throw new InvalidArgumentError('Expected a date (2026-11-01, ISO-8601) or an age (30m, 24h, 7d).');
}
