import { existsSync } from 'node:fs';
import { Argument, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import type { CommandContext } from '../context.js';
import { withExamples } from './examples.js';
import { SHELLS } from './flags.js';

/** `completion bash|zsh|fish`, and the hidden `__complete-orgs` / `__complete-profiles` the scripts call for --org / --profile values. */
export function registerCompletion(program: CommandUnknownOpts, act: Act): void {
  withExamples(
    program
      .command('completion')
      .description('print a shell completion script: bash, zsh or fish (see docs/cli.md)')
      .addArgument(new Argument('<shell>').choices(SHELLS)),
    [
      'portal-mfa completion bash > ~/.local/share/bash-completion/completions/portal-mfa',
      'mkdir -p ~/.zfunc && portal-mfa completion zsh > ~/.zfunc/_portal-mfa    # fpath=(~/.zfunc $fpath) in ~/.zshrc',
      'portal-mfa completion fish > ~/.config/fish/completions/portal-mfa.fish',
    ],
  ).action(async function (shell) {
    // no context, no database: the script comes from the command tree alone
    const { completionScript } = await import('../completion.js');
    this.configureOutput().writeOut!(completionScript(program, shell));
  });
  program
    .command('__complete-profiles', { hidden: true })
    .description('profile names, one a line, for shell completion')
    .action(async (...args) => {
      try {
        await act(completeProfiles)(...args);
      } catch {
        /* silent: no candidates */
      }
    });
  program
    .command('__complete-orgs', { hidden: true })
    .description('organisation slugs, one a line, for shell completion')
    .action(async (...args) => {
      // completion must never print an error or fail the shell: any failure is no candidates
      try {
        await act(completeOrgs)(...args);
      } catch {
        /* silent */
      }
    });
}

/**
 * The organisation slugs, one a line, for `--org` completion. Reads the database only if it
 * exists already (completion must never create the embedded database) and never migrates.
 */
async function completeOrgs(ctx: CommandContext): Promise<void> {
  const target = ctx.target();
  if (target.dialect === 'sqlite' && !existsSync(target.filename)) return;
  const db = await ctx.database({ checkSchema: false });
  const { organisationSlugs } = await import('../../core/usecases/organisations.js');
  // only plain slugs reach the shell: nothing it would interpret
  const slugs = (await organisationSlugs(db.store, 5000)).filter((s) => /^[A-Za-z0-9._-]+$/.test(s));
  if (slugs.length) ctx.io.stdout.write(slugs.join('\n') + '\n');
}

/** The config file's profile names, one a line, for `--profile` completion; no database is opened. */
async function completeProfiles(ctx: CommandContext): Promise<void> {
  const { readConfigFile } = await import('../profiles.js');
  // only plain names reach the shell: nothing it would interpret
  const names = (readConfigFile(ctx.env)?.profiles ?? []).map((p) => p.name).filter((n) => /^[A-Za-z0-9._-]+$/.test(n));
  if (names.length) ctx.io.stdout.write(names.join('\n') + '\n');
}
