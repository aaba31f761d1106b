import { type CommandUnknownOpts, CommanderError } from '@commander-js/extra-typings';
import { EXIT_CODES_HELP } from '../exitCodes.js';
import { withExamples } from './examples.js';

/** `help [topic...]`: a command's help (`help org users`), or a topic (`help exit-codes`). */
export function registerHelp(program: CommandUnknownOpts): void {
  withExamples(program.command('help [topic...]').description('show help for a command (help org users), or a topic: globals, exit-codes'), [
    'portal-mfa help org users',
    'portal-mfa help globals',
    'portal-mfa help exit-codes',
  ]).action(function (topic) {
    if (topic.length === 1 && topic[0] === 'exit-codes') {
      this.configureOutput().writeOut!(EXIT_CODES_HELP);
      return;
    }
    if (topic.length === 1 && topic[0] === 'globals') {
      this.configureOutput().writeOut!(globalsHelp(program));
      return;
    }
    let cmd = program;
    for (const word of topic) {
      const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
      if (!sub) throw new CommanderError(2, 'portal-mfa.unknownTopic', `error: no help topic or command named '${topic.join(' ')}' (see portal-mfa help)`);
      cmd = sub;
    }
    cmd.outputHelp();
  });
}

/** `help globals`: the flags every command takes, as the root help lists them. */
function globalsHelp(program: CommandUnknownOpts): string {
  const helper = program.createHelp();
  helper.prepareContext({ helpWidth: program.configureOutput().getOutHelpWidth?.() ?? 80 });
  const options = helper.visibleOptions(program).filter((o) => o.long !== '--version' && o.long !== '--help');
  const termWidth = Math.max(...options.map((o) => helper.displayWidth(helper.optionTerm(o))));
  const items = options.map((o) => helper.formatItem(helper.optionTerm(o), termWidth, helper.optionDescription(o), helper));
  const width = helper.helpWidth ?? 80;
  return [
    'Usage: portal-mfa COMMAND [options]',
    '',
    helper.boxWrap('Global options: every command takes them, before or after its name (portal-mfa org users --org acme --json).', width),
    '',
    'Options:',
    ...items,
    '',
    helper.boxWrap(
      'Where a flag names an environment variable, the variable is used when the flag is not given; a profile (--profile, PORTAL_MFA_PROFILE) fills in what both leave out. See docs/cli.md.',
      width,
    ),
    '',
  ].join('\n');
}
