import { type CommandUnknownOpts, CommanderError } from '@commander-js/extra-typings';
import { EXIT_CODES_HELP } from '../exitCodes.js';
import { withExamples } from './examples.js';

/** `help [topic...]`: a command's help (`help org users`), or a topic (`help exit-codes`). */
export function registerHelp(program: CommandUnknownOpts): void {
  withExamples(program.command('help [topic...]').description('show help for a command (help org users), or a topic: exit-codes'), [
    'portal-mfa help org users',
    'portal-mfa help exit-codes',
  ]).action(function (topic) {
    if (topic.length === 1 && topic[0] === 'exit-codes') {
      this.configureOutput().writeOut!(EXIT_CODES_HELP);
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
