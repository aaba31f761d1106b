import type { CommandUnknownOpts as Command, Help, Option } from '@commander-js/extra-typings';
import { commandPath, EXAMPLES } from './commands/examples.js';

/**
 * The CLI reference (docs/cli-reference.md) and the man pages (man/man1/), generated from the
 * commander definitions by `npm run docs:cli` (scripts/gen-cli-docs.mjs), as gh's gen-docs does:
 * every command's usage, description, flags with their choices and examples, and the global flags
 * once. test/unit/cliReference.test.ts fails when the checked-in files differ from what the
 * definitions give, so they never drift. Deterministic: no dates, the version only.
 */

interface CommandDoc {
  path: string;
  usage: string;
  aliases: string[];
  description: string;
  args: { term: string; description: string }[];
  options: { term: string; description: string }[];
  subcommands: { name: string; description: string }[];
  examples: readonly string[];
}

function visible(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

function describeCommand(cmd: Command, helper: Help): CommandDoc {
  const path = commandPath(cmd);
  const options = (helper.visibleOptions(cmd) as Option[]).filter((o) => o.long !== '--help' && (path === '' || o.long !== '--version'));
  return {
    path,
    usage: helper.commandUsage(cmd),
    aliases: cmd.aliases(),
    description: cmd.description(),
    args: helper.visibleArguments(cmd).map((a) => ({ term: helper.argumentTerm(a), description: helper.argumentDescription(a) })),
    options: options.map((o) => ({ term: helper.optionTerm(o), description: helper.optionDescription(o) })),
    subcommands: visible(cmd).map((c) => ({ name: c.name(), description: c.description() })),
    examples: EXAMPLES[path] ?? [],
  };
}

/** Every visible command, the program first, depth first in the order `--help` lists them. */
function allDocs(program: Command): CommandDoc[] {
  const helper = program.createHelp() as Help;
  const out: CommandDoc[] = [];
  const visit = (cmd: Command) => {
    out.push(describeCommand(cmd, helper));
    for (const c of visible(cmd)) visit(c);
  };
  visit(program);
  return out;
}

const anchor = (path: string) => `portal-mfa${path ? `-${path.replace(/ /g, '-')}` : ''}`;
/** Text for a Markdown table cell; `code` for one inside backticks (where an entity would show as typed). */
const md = (s: string) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;');
const code = (s: string) => `\`${s.replace(/\|/g, '\\|')}\``;

/** docs/cli-reference.md */
export function cliReferenceMarkdown(program: Command, version: string): string {
  const docs = allDocs(program);
  const [root, ...commands] = docs;
  const lines: string[] = [
    '# portal-mfa command reference',
    '',
    `<!-- Generated from the command definitions by \`npm run docs:cli\` (portal-mfa ${version}); do not edit. -->`,
    '',
    'Every command with its flags and examples, as `portal-mfa help COMMAND` prints them. The guides',
    '([cli.md](cli.md) and the pages per reader) explain when to use which; the man pages',
    '(`man portal-mfa`, `man portal-mfa-org-users`, …) hold the same text.',
    '',
    '## Global flags',
    '',
    'Every command takes these, before or after its name (`portal-mfa help globals`).',
    '',
    '| flag | |',
    '| --- | --- |',
    ...root!.options.map((o) => `| ${code(o.term)} | ${md(o.description)} |`),
    '',
    '## Commands',
    '',
    ...commands.map((c) => `- [\`portal-mfa ${c.path}\`](#${anchor(c.path)}) — ${md(c.description)}`),
    '',
  ];
  for (const c of commands) {
    lines.push(`<a id="${anchor(c.path)}"></a>`, '', `### portal-mfa ${c.path}`, '', md(c.description), '', '```', c.usage, '```', '');
    if (c.aliases.length) lines.push(`Alias: ${c.aliases.map((a) => `\`${a}\``).join(', ')}.`, '');
    if (c.args.length) lines.push('| argument | |', '| --- | --- |', ...c.args.map((a) => `| ${code(a.term)} | ${md(a.description)} |`), '');
    if (c.options.length) lines.push('| flag | |', '| --- | --- |', ...c.options.map((o) => `| ${code(o.term)} | ${md(o.description)} |`), '');
    if (c.subcommands.length) lines.push(...c.subcommands.map((s) => `- [\`${s.name}\`](#${anchor(`${c.path} ${s.name}`)}) — ${md(s.description)}`), '');
    if (c.examples.length) lines.push('```sh', ...c.examples, '```', '');
  }
  return lines.join('\n');
}

/** roff text: backslashes and leading dots/quotes escaped, hyphens as minus signs (copyable flags). */
function roff(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

/** man/man1/<name>.1 for every command: `portal-mfa.1`, `portal-mfa-org-users.1`, … */
export function manPages(program: Command, version: string): Map<string, string> {
  const docs = allDocs(program);
  const pages = new Map<string, string>();
  for (const c of docs) {
    const name = anchor(c.path);
    const out: string[] = [
      `.\\" Generated from the command definitions by npm run docs:cli; do not edit.`,
      `.TH "${name.toUpperCase()}" "1" "" "portal-mfa ${version}" "portal-mfa manual"`,
      '.SH NAME',
      `${roff(name)} \\- ${roff(c.description)}`,
      '.SH SYNOPSIS',
      `.B ${roff(c.usage)}`,
    ];
    if (c.path === '') {
      out.push('.SH DESCRIPTION', roff(c.description), '.PP', roff('Each command has a page of its own: portal-mfa-COMMAND(1), e.g. portal-mfa-org-users(1).'));
    }
    if (c.aliases.length) out.push('.SH ALIASES', roff(c.aliases.join(', ')));
    if (c.args.length) out.push('.SH ARGUMENTS', ...c.args.flatMap((a) => ['.TP', `.B ${roff(a.term)}`, roff(a.description)]));
    if (c.options.length)
      out.push(c.path === '' ? '.SH GLOBAL OPTIONS' : '.SH OPTIONS', ...c.options.flatMap((o) => ['.TP', `.B ${roff(o.term)}`, roff(o.description)]));
    if (c.path !== '') out.push('.PP', roff('The global options (--db, --as, --profile, --json, …) are in portal-mfa(1).'));
    if (c.subcommands.length)
      out.push(
        '.SH COMMANDS',
        ...c.subcommands.flatMap((s) => ['.TP', `.B ${roff(s.name)}`, roff(`${s.description} (see ${anchor(`${c.path} ${s.name}`.trim())}(1))`)]),
      );
    if (c.examples.length) out.push('.SH EXAMPLES', '.nf', '.RS 4', ...c.examples.map(roff), '.RE', '.fi');
    const parent = c.path.includes(' ') ? anchor(c.path.slice(0, c.path.lastIndexOf(' '))) : 'portal-mfa';
    out.push(
      '.SH SEE ALSO',
      roff(
        c.path === '' ? 'portal-mfa help exit-codes; the guides in docs/ of the package' : `${parent}(1)${parent === 'portal-mfa' ? '' : ', portal-mfa(1)'}`,
      ),
    );
    pages.set(`${name}.1`, out.join('\n') + '\n');
  }
  return pages;
}
