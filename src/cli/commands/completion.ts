import { Argument, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Act } from '../act.js';
import { SHELLS } from './flags.js';
import { lazy } from './lazy.js';

/** `completion bash|zsh|fish`, and the hidden `__complete-orgs` the scripts call for --org values. */
export function registerCompletionCommands(program: CommandUnknownOpts, act: Act): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish (see README "Shell completion")')
    .addArgument(new Argument('<shell>').choices(SHELLS))
    .action(async function (shell) {
      // no context, no database: the script comes from the command tree alone
      const { completionScript } = await import('../completion.js');
      this.configureOutput().writeOut!(completionScript(program, shell));
    });
  program
    .command('__complete-orgs', { hidden: true })
    .description('organisation slugs, one a line, for shell completion')
    .action(async (...args) => {
      // completion must never print an error or fail the shell: any failure is no candidates
      try {
        await act(lazy(() => import('../handlers/completion.js'), 'completeOrgs'))(...args);
      } catch {
        /* silent */
      }
    });
}
