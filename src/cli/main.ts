import { Command, CommanderError, type CommandUnknownOpts, Help } from '@commander-js/extra-typings';
import { isPortalMfaError, type PortalMfaError, usageError } from '../core/errors.js';
import { EXIT_CODES } from './exitCodes.js';
import type { DatabaseTarget } from '../db/url.js';
import type { Act, Handler } from './act.js';
import type { ContextDeps } from './context.js';
import { colorWanted, systemIO, type IOStreams } from './io.js';
import { defineGlobals, type GlobalOptions } from './commands/globals.js';
import { withExamples } from './commands/examples.js';
import { registerCommands } from './commands/index.js';
import { errorStyle } from './render.js';
import { oneLine, oneLineMessage } from './oneLine.js';
import { VERSION } from './version.js';

export interface RunDeps extends Partial<ContextDeps> {
  env?: NodeJS.ProcessEnv;
}

/**
 * Where the README of the installed package is: the launcher and `--help` replace this with the
 * real path at run time (the pre-rendered help is built on another machine than it runs on).
 */
export const README_PLACEHOLDER = '{{README}}';
const README_PATH = decodeURIComponent(new URL('../../../README.md', import.meta.url).pathname);

/** Build the commander program: the global flags, every command (src/cli/commands/index.ts), one error output. */
export function buildProgram(act: Act, io: { out: (s: string) => void; err: (s: string) => void }, opts: { json?: boolean } = {}): CommandUnknownOpts {
  const output = {
    writeOut: (s: string) => io.out(s.replace(README_PLACEHOLDER, README_PATH)),
    writeErr: io.err,
    // commander's own errors (unknown flags, choices, conflicts, bad numbers): one line, JSON under --json
    outputError: (s: string, write: (s: string) => void) => write(usageErrorLine(s, Boolean(opts.json))),
  };
  const program = defineGlobals(
    new Command('portal-mfa')
      .description("Manage TOTP multi-factor authentication on the developer portal's user database.")
      .version(VERSION, '-V, --version', 'print the version'),
  )
    .showSuggestionAfterError(true)
    .configureOutput(output)
    .exitOverride();
  program.helpCommand(false);
  // A command's help lists its own flags; the global ones, the same for every command, are one line
  // pointing to `help globals` (issue 23: seventeen repeated lines pushed the command's own off the
  // screen). Inherited by the commands created below.
  program.configureHelp({
    formatHelp: (cmd, helper) => {
      const text = Help.prototype.formatHelp.call(helper, cmd, helper);
      return cmd.parent ? `${text}\n${helper.boxWrap(GLOBALS_LINE, helper.helpWidth ?? 80)}\n` : text;
    },
  });
  registerCommands(program, act);
  withExamples(program, ROOT_EXAMPLES);
  program.addHelpText(
    'after',
    [
      'More help:',
      "  portal-mfa help COMMAND [SUBCOMMAND]   a command's flags and examples (help org users)",
      '  portal-mfa help globals                the flags every command takes',
      '  portal-mfa help exit-codes             what each exit code means',
      `Documentation: ${README_PLACEHOLDER}`,
    ].join('\n'),
  );
  // Every subcommand reports parse errors through the same override.
  for (const c of allCommands(program)) c.exitOverride().configureOutput(output).showSuggestionAfterError(true);
  return program;
}

/** The line under every command's own options. */
const GLOBALS_LINE = 'Global options (--db, --as, --profile, --json, …): portal-mfa help globals';

/** The first things to try, in the root help (each is run by test/e2e/help-examples.test.ts). */
const ROOT_EXAMPLES = [
  'portal-mfa demo                               # a sample portal to try it on',
  'portal-mfa enroll --as devon@example.com      # QR code, then a code from the app',
  'portal-mfa status --as devon@example.com      # MFA state, lock, devices',
  'portal-mfa org users --org globex --as bob@globex.example',
];

function allCommands(cmd: CommandUnknownOpts): CommandUnknownOpts[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** A value echoed by commander is cut to this many characters: the error stays a readable line. */
const ECHO_LIMIT = 60;
const MESSAGE_LIMIT = 300;

/**
 * Commander's error text as the product prints errors (SPEC §6): one line ("(Did you mean …?)" joined
 * on), control characters escaped, a long echoed value cut; under --json the usual error object.
 */
function usageErrorLine(text: string, json: boolean): string {
  // and the whole line capped too: a value full of quotes escapes the per-value cut
  const message = oneLineMessage(oneLine(text).replace(new RegExp(`'([^']{${ECHO_LIMIT}})[^']+'`, 'g'), "'$1…'"), MESSAGE_LIMIT);
  if (!json) return message + '\n';
  const error = { code: 'invalid_input', message: message.replace(/^error: /, ''), exitCode: EXIT_CODES.usage };
  return JSON.stringify({ error }) + '\n';
}

/**
 * Run portal-mfa with argv (without node and script). Returns the exit code; the only place
 * errors become exit codes (SPEC §4).
 */
export async function run(argv: string[], deps: RunDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const noColor = argv.includes('--no-color');
  const io: IOStreams = deps.io ?? systemIO(env, { noColor });
  const errColor = colorWanted(env, io.stderrIsTTY, noColor);
  // one colour system: chalk, as everywhere else (loaded only when stderr shows colour)
  const errStyle = await errorStyle(errColor);
  const red = (s: string) => errStyle.red(s);
  const dim = (s: string) => errStyle.dim(s);

  const act: Act =
    <O, A>(handler: Handler<O, A>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as CommandUnknownOpts;
      // (the handler's command is typed by its own definition; the globals are the program's)
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      const { createContext } = await import('./context.js');
      if (io.stdoutIsTTY || io.color || io.colorErr) await (await import('./render.js')).loadTerminalSupport(io);
      const ctx = createContext(globals, { ...deps, env, io });
      let failed = false;
      try {
        // remote mode (src/cli/remote/): commands that need the database are refused before anything runs
        if (ctx.server) (await import('./remote/api.js')).prepareRemoteCommand(ctx, cmd);
        await handler(
          ctx,
          cmd.opts() as O,
          args
            .slice(0, -2)
            .flat()
            .filter((a) => a !== undefined) as A[],
        );
      } catch (e) {
        failed = true;
        // a hint's `portal-mfa …` carries this run's --profile/--db/--key-file/--as: it can be pasted
        if (isPortalMfaError(e)) throw (await import('./invocation.js')).withPasteableHint(ctx, e);
        // a driver error: name the database in the message (never its password)
        let target: DatabaseTarget | undefined;
        try {
          target = ctx.target();
        } catch {
          /* an unusable URL is reported by itself */
        }
        throw (await import('../core/failures.js')).asPortalMfaError(e, target);
      } finally {
        // Notices this command queued (and committed) go out now, also when it failed afterwards;
        // delivery never changes the exit code (SPEC §7).
        if (ctx.queuedNotifications.length > 0) await (await import('./deliverQueued.js')).deliverQueuedNotifications(ctx, { commandFailed: failed });
        await ctx.close();
      }
    };

  // PORTAL_MFA_DEBUG: one stderr line per conflict the database made us retry (docs/operator/databases.md)
  const stopDebug = env.PORTAL_MFA_DEBUG
    ? (await import('../core/failures.js')).onConflict((c) =>
        io.stderr.write(`debug: ${c.kind} conflict ${c.code}, attempt ${c.attempt}/${c.attempts}${c.willRetry ? ', retrying' : ', giving up'}\n`),
      )
    : () => undefined;
  const json = argv.includes('--json');
  const program = buildProgram(
    act,
    {
      out: (s) => io.stdout.write(s),
      err: (s) => io.stderr.write(s),
    },
    { json },
  );
  const contradiction = contradictoryFlags(argv);
  if (contradiction) {
    writeError(io, usageError(`${contradiction} cannot be combined`, { hint: 'give one of them' }), red, dim, json, env);
    return EXIT_CODES.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        return e.exitCode === 0 ? 0 : EXIT_CODES.usage;
      }
      // commander already printed its one-line message for its own errors
      if (e.code === 'portal-mfa.unknownTopic') io.stderr.write(json ? usageErrorLine(e.message, true) : red(oneLine(e.message)) + '\n');
      return EXIT_CODES.usage;
    }
    const err = isPortalMfaError(e) ? e : (await import('../core/failures.js')).asPortalMfaError(e);
    writeError(io, err, red, dim, json, env);
    return EXIT_CODES[err.kind];
  } finally {
    stopDebug();
  }
}

/** `--X … --no-X`: commander lets the last one win; a contradiction is a usage error instead. */
function contradictoryFlags(argv: string[]): string | undefined {
  const end = argv.indexOf('--');
  const flags = (end === -1 ? argv : argv.slice(0, end)).filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!);
  const negated = flags.find((f) => f.startsWith('--no-') && flags.includes(`--${f.slice(5)}`));
  return negated === undefined ? undefined : `--${negated.slice(5)} and ${negated}`;
}

function writeError(io: IOStreams, err: PortalMfaError, red: (s: string) => string, dim: (s: string) => string, json: boolean, env: NodeJS.ProcessEnv): void {
  if (json) {
    // SPEC §6: under --json the error is one JSON object on stderr, with a stable code
    const error = {
      code: err.code,
      message: oneLine(err.message),
      ...(err.hint ? { hint: oneLine(err.hint) } : {}),
      exitCode: EXIT_CODES[err.kind],
      ...(err.details ? { details: err.details } : {}),
    };
    io.stderr.write(JSON.stringify({ error }) + '\n');
    return;
  }
  let text = red('error: ') + oneLine(err.message);
  if (err.hint) text += dim(` (${oneLine(err.hint)})`);
  io.stderr.write(text + '\n');
  const cause = (err as Error).cause as Error | undefined;
  if (env.PORTAL_MFA_DEBUG && cause?.stack) io.stderr.write(String(cause.stack) + '\n');
}
