import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { fitCommandLine } from '../render.js';

/**
 * Every defined command's examples, by command path ("org users"): filled by `withExamples` as the
 * commands are defined, so test/unit/help.test.ts can check that every command has 2–4 and that each
 * one parses with it — an example that no longer matches the command's flags fails the build, not
 * the support rep.
 */
export const EXAMPLES: Record<string, readonly string[]> = {};

/**
 * A command's 2–4 examples (SPEC §6), shown in its help after the options. At the help's width (the
 * terminal's; 80 when pre-rendered) an example too wide for it gets its comment on a line of its
 * own above it, and a command still too wide breaks with ` \` — nothing the terminal would wrap.
 */
export function withExamples<C extends CommandUnknownOpts>(cmd: C, examples: readonly string[]): C {
  EXAMPLES[commandPath(cmd)] = examples;
  cmd.addHelpText('after', ({ command }) => {
    const width = command.configureOutput().getOutHelpWidth?.() ?? 80;
    return `\nExamples:\n${examples.map((e) => exampleLines(e, width)).join('\n')}\n`;
  });
  return cmd;
}

function exampleLines(example: string, width: number): string {
  const line = `  ${example}`;
  if (line.length <= width) return line;
  const comment = example.match(/\s+(#\s.*)$/);
  const command = comment ? `  ${example.slice(0, comment.index)}` : line;
  return `${comment ? `  ${comment[1]}\n` : ''}${fitCommandLine(command, width)}`;
}

/** The path of a command below the program: "org users". */
export function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
