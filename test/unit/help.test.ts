/**
 * Help as a support rep reads it (SPEC §6): every command lists its flags, the global flags and
 * 2–4 examples that the command really accepts; `help org users` works; the root help names a
 * README that exists. The examples are parsed by the real command tree (a no-op handler), so an
 * example that drifts from the flags fails here.
 */
import { existsSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, commandPath } from '../../src/cli/commands/examples.js';
import { buildProgram, README_PLACEHOLDER } from '../../src/cli/main.js';
import { makeCliEnv, runCli } from '../support/cli.js';
import { runInProcess } from '../support/inProcess.js';

function program(out: { text: string } = { text: '' }): Command {
  return buildProgram(() => async () => {}, { out: (s) => (out.text += s), err: (s) => (out.text += s) });
}

function leaves(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => (c.commands.length ? leaves(c) : [c])).filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
}

/** The portal-mfa argv of a shell example: words after `portal-mfa` up to a pipe, redirection or comment. */
function argvOf(example: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let started = false;
  for (let m = re.exec(example); m; m = re.exec(example)) {
    const word = m[1] ?? m[2] ?? m[3]!;
    if (!started) {
      started = word === 'portal-mfa';
      continue;
    }
    if (m[3] !== undefined && /^(\||>|<|&&|#|2>)/.test(word)) break;
    words.push(word);
  }
  expect(started, `no portal-mfa in example: ${example}`).toBe(true);
  return words;
}

describe('help', () => {
  const registered = leaves(program());

  it('every command has 2–4 examples', () => {
    const missing = registered.map(commandPath).filter((p) => !(EXAMPLES[p] && EXAMPLES[p]!.length >= 2 && EXAMPLES[p]!.length <= 4));
    expect(missing).toEqual([]);
  });

  it('every example of a registered command parses with that command', async () => {
    const paths = new Set(registered.map(commandPath));
    let checked = 0;
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      if (!paths.has(path)) continue;
      for (const example of examples) {
        const argv = argvOf(example);
        const seen: string[] = [];
        const p = buildProgram(
          () =>
            async (...args: unknown[]) => {
              seen.push(commandPath(args[args.length - 1] as Command));
            },
          { out: () => {}, err: () => {} },
        );
        try {
          await p.parseAsync(argv, { from: 'user' });
        } catch (e) {
          throw new Error(`example does not parse: ${example}\n${e instanceof CommanderError ? e.message : String(e)}`);
        }
        // help and completion have actions of their own; the others reach their handler
        if (path !== 'help' && path !== 'completion') expect(seen, example).toEqual([path]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it("a command's help shows its flags, one line pointing to help globals (not the 13 global flags), and its examples", async () => {
    const env = makeCliEnv().env;
    const r = await runInProcess(['org', 'disable-mfa', '--help'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Options:[\s\S]*--users-from <file>[\s\S]*\n\nGlobal options \(--db, --as, --profile, --json, …\): portal-mfa help globals\n\nExamples:\n {2}portal-mfa org disable-mfa --org acme/,
    );
    expect(r.stdout).not.toMatch(/--key-file|--verbose|Global Options:/);
    // nothing a terminal 80 columns wide would wrap: a long example gets its comment above it, then breaks with \\
    for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(r.stdout).toContain('(echo "$PASSWORD"; cat emails.txt) | portal-mfa org disable-mfa --org acme \\\n      --users-from - --password-stdin');
  });

  it('help globals lists the flags every command takes; the root help has examples and points to it', async () => {
    const env = makeCliEnv().env;
    const g = await runInProcess(['help', 'globals'], { env });
    expect(g.code, g.stderr).toBe(0);
    for (const flag of [
      '--db <url>',
      '--key-file <file>',
      '--as <email>',
      '--password-stdin',
      '--profile <name>',
      '--json',
      '--no-color',
      '--yes',
      '--quiet',
      '--verbose',
    ])
      expect(g.stdout).toContain(flag);
    const root = await runCli(['--help'], { env });
    expect(root.stdout).toMatch(/Examples:\n {2}portal-mfa demo /);
    expect(root.stdout).toContain('portal-mfa help globals');
  });

  it("help org users shows the nested command's help; an unknown topic is exit 2 in one line", async () => {
    const env = makeCliEnv().env;
    const r = await runInProcess(['help', 'org', 'users'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: portal-mfa org users \[options\]/);
    expect(r.stdout).toContain('portal-mfa help globals');
    const bad = await runInProcess(['help', 'org', 'nope'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("'org nope'");
  });

  it('root help (pre-rendered and live) names the README of the installed package, which exists', async () => {
    const env = makeCliEnv().env;
    for (const args of [['--help'], ['help']]) {
      const r = await runCli(args, { env });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(README_PLACEHOLDER);
      const readme = r.stdout.match(/^Documentation: (.+)$/m)?.[1];
      expect(readme, r.stdout).toMatch(/README\.md$/);
      expect(existsSync(readme!)).toBe(true);
      expect(r.stdout).toContain('portal-mfa help COMMAND');
    }
  });
});
