import type { Command } from '@commander-js/extra-typings';
import type { OptionsOf } from './flags.js';

/** The global flags (SPEC §3 "Global"), on the program: every command accepts them and lists them in its help. */
export const defineGlobals = (program: Command) =>
  program
    .option('--db <url>', 'database URL: sqlite:PATH or mysql://user:pass@host:port/db (env PORTAL_MFA_DB)')
    .option('--server <url>', 'talk to a portal-mfa service instead of the database (env PORTAL_MFA_SERVER)')
    .option('--key-file <file>', 'file holding the base64 secrets key (default: PORTAL_MFA_KEY)')
    .option('--as <email>', 'act as this portal user (default: the CLI session; env PORTAL_MFA_AS)')
    .option('--password-stdin', "read the actor's password from the first line of stdin")
    .option('--code <code>', 'a current code from the authenticator app (`-` reads it from stdin)')
    .option('--recovery-code <code>', 'a recovery code, in place of a code from the app (used up)')
    .option('--profile <name>', 'settings from [profiles.NAME] of the config file (env PORTAL_MFA_PROFILE)')
    .option('--json', 'print one JSON document (NDJSON for streams) on stdout')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .option('-y, --yes', 'skip confirmations')
    .option('-q, --quiet', 'print less')
    .option('--verbose', 'say which database server is used (stderr)');
/** The global options as every command's context holds them (`ctx.globals`). */
export type GlobalOptions = OptionsOf<typeof defineGlobals>;
