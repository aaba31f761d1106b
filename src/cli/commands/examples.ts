import type { CommandUnknownOpts } from '@commander-js/extra-typings';

/**
 * Every defined command's examples, by command path ("org users"): filled by `withExamples` as the
 * commands are defined, so test/unit/help.test.ts can check that every command has 2–4 and that each
 * one parses with it — an example that no longer matches the command's flags fails the build, not
 * the support rep.
 */
export const EXAMPLES: Record<string, readonly string[]> = {};

/** A command's 2–4 examples (SPEC §6), shown in its help after the options. */
export function withExamples<C extends CommandUnknownOpts>(cmd: C, examples: readonly string[]): C {
  EXAMPLES[commandPath(cmd)] = examples;
  cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`);
  return cmd;
}

/** The path of a command below the program: "org users". */
export function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
