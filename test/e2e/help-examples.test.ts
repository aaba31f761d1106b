/**
 * Every example that help prints runs as printed (issue 23): each one is run against a copy of a
 * demo portal (SQLite), in a directory holding the files it names, and must not fail with a usage
 * error (exit 2) — the flags it shows are the ones the command needs in that situation. An example
 * is run the way a person would type it: on a terminal (a password prompt answered, confirmations
 * yes) unless it reads stdin from a file or a pipe, which then is its stdin and no terminal. Who
 * runs it: the account its --as names, else the first of a support representative, an org admin
 * and a developer (PORTAL_MFA_AS) for whom it is not a usage error — an org admin's example is not
 * a support rep's. Examples naming a server that is not here, and `serve` (which runs until
 * stopped), are only parsed (help.test.ts).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXAMPLES, commandPath } from '../../src/cli/commands/examples.js';
import { buildProgram } from '../../src/cli/main.js';
import type { Prompter } from '../../src/cli/prompter.js';
import { DEMO_MAPPING } from '../../src/db/identity/presets.js';
import { type CliResult, importBuilt, makeCliEnv, REPO_ROOT, runCli } from '../support/cli.js';
import { cheapDemoPasswordsIn } from '../support/scenario.js';

vi.setConfig({ testTimeout: 120_000 });

const PERSONAS = ['sam@support.example', 'bob@globex.example', 'devon@example.com'];
const passwordOf = (email: string) => `${email.split('@')[0]}-demo-pass`;
/**
 * Examples not run here, only parsed (test/unit/help.test.ts): those naming a server that does not
 * exist here (a MySQL host), and `serve`, which runs until stopped (test/service starts it).
 */
const NOT_HERE = /db\.internal|portal-mfa serve\b/;

/** What an example asks the shell to do: portal-mfa's argv, and its stdin (undefined: a terminal). */
interface ShellExample {
  argv: string[];
  stdin?: string;
}

/** A one-line shell example as words; `op` marks an unquoted shell operator (| > < && ; 2> and a comment). */
function tokens(text: string): { word: string; op: boolean }[] {
  const out: { word: string; op: boolean }[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const bare = m[3];
    out.push({ word: m[1] ?? m[2] ?? bare!, op: bare !== undefined && /^(\||>|<|&&|;|2>|#)$/.test(bare) });
  }
  return out;
}

function parseExample(example: string, password: string, dir: string): ShellExample {
  const t = tokens(example.replace(/\(|\)|\{|\}|;/g, (p) => ` ${p === '(' || p === '{' ? '' : ';'} `));
  const comment = t.findIndex((x) => x.op && x.word === '#');
  const all = comment < 0 ? t : t.slice(0, comment);
  const at = all.findIndex((x) => !x.op && x.word === 'portal-mfa');
  const rest = all.slice(at + 1);
  const end = rest.findIndex((x) => x.op);
  const argv = (end < 0 ? rest : rest.slice(0, end)).map((x) => x.word);
  let stdin: string | undefined;
  const redirect = rest.findIndex((x) => x.op && x.word === '<');
  if (redirect >= 0) stdin = readFile(path.join(dir, rest[redirect + 1]!.word));
  const before = all.slice(0, at);
  if (before.length && before[before.length - 1]!.op && before[before.length - 1]!.word === '|') {
    // the producers used in help: echo "$PASSWORD", and (echo "$PASSWORD"; cat FILE)
    stdin = '';
    let part: string[] = [];
    for (const x of [...before.slice(0, -1), { word: ';', op: true }]) {
      if (!x.op) {
        part.push(x.word);
        continue;
      }
      if (part[0] === 'echo')
        stdin += `${part
          .slice(1)
          .join(' ')
          .replace(/\$PASSWORD|\$PW/, password)}\n`;
      else if (part[0] === 'cat') stdin += readFile(path.join(dir, part[1]!));
      // (the docs: `cut -d, -f1 FILE`, the first column of a CSV)
      else if (part[0] === 'cut' && part[1] === '-d,' && part[2] === '-f1')
        stdin += readFile(path.join(dir, part[3]!))
          .split('\n')
          .map((l) => `${l.split(',')[0]}\n`)
          .join('');
      else if (part.length) throw new Error(`unknown producer in example: ${example}`);
      part = [];
    }
  }
  return { argv, stdin };
}

const readFile = (file: string) => readFileSync(file, 'utf8');

/**
 * A person at the terminal: the password asked for, yes to every question, the first choice; Ctrl-C
 * at a code prompt (exit 130), as the prompt seam reports it — the error of the build runCli runs.
 */
function personAtTerminal(cancelled: () => Error): Prompter {
  return {
    password: async (message) => passwordOf(message.match(/for (\S+?):?\s*$/)?.[1] ?? 'nobody@x'),
    input: async () => {
      throw cancelled();
    },
    confirm: async () => true,
    select: async (_m, choices) => choices[0]!.value,
  };
}

describe('help examples run as printed [sqlite]', () => {
  let root: string;
  let template: string;
  let env: NodeJS.ProcessEnv;
  const cwd = process.cwd();

  beforeAll(async () => {
    env = makeCliEnv().env;
    root = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-examples-'));
    template = path.join(root, 'template.db');
    for (const args of [['db', 'migrate'], ['demo']]) {
      const r = await runCli(['--db', `sqlite:${template}`, ...args], { env });
      expect(r.code, r.stderr).toBe(0);
    }
    // ~90 runs each check a password: the demo's hashes at bcrypt's lowest cost
    await cheapDemoPasswordsIn(template);
    // `--profile prod` in an example: a profile of that name (its database is the example's, from PORTAL_MFA_DB)
    mkdirSync(path.join(env.XDG_CONFIG_HOME!, 'portal-mfa'), { recursive: true });
    writeFileSync(path.join(env.XDG_CONFIG_HOME!, 'portal-mfa', 'config.toml'), '[profiles.prod]\nissuer = "Gentrack Developer Portal"\n');
  });
  afterAll(() => process.chdir(cwd));

  /** A directory with a copy of the demo portal and the files the examples name. */
  function workspace(n: number): { dir: string; db: string } {
    const dir = path.join(root, `ex-${n}`);
    mkdirSync(dir);
    const db = path.join(dir, 'portal.db');
    copyFileSync(template, db);
    if (existsSync(`${template}.key`)) {
      copyFileSync(`${template}.key`, `${db}.key`);
      copyFileSync(`${template}.key`, path.join(dir, 'current.key'));
    }
    writeFileSync(path.join(dir, 'new.key'), `${Buffer.alloc(32, n).toString('base64')}\n`);
    writeFileSync(path.join(dir, 'emails.txt'), 'dave@acme.example\nerin@acme.example\n');
    writeFileSync(path.join(dir, 'leavers.csv'), 'email\ndave@acme.example\n');
    // the files the guides' examples name
    writeFileSync(path.join(dir, 'leavers.txt'), 'dave@acme.example\n');
    writeFileSync(path.join(dir, 'no-mfa.csv'), 'dave@acme.example,none\nerin@acme.example,none\n');
    writeFileSync(path.join(dir, 'acme-members.csv'), 'email\nalice@acme.example\ndave@acme.example\n');
    writeFileSync(path.join(dir, 'mapping.json'), JSON.stringify(DEMO_MAPPING));
    return { dir, db };
  }

  let n = 0;
  /** Run one example as printed; the failure line, or null. */
  async function runExample(example: string, cancelled: () => Error): Promise<string | null> {
    const named = example.match(/--as (\S+)/)?.[1];
    const tries: CliResult[] = [];
    for (const actor of named ? [named] : PERSONAS) {
      const { dir, db } = workspace(++n);
      const { argv, stdin } = parseExample(example, passwordOf(actor), dir);
      process.chdir(dir);
      try {
        const r = await runCli(argv, {
          env: { ...env, PORTAL_MFA_DB: `sqlite:${db}`, ...(named ? {} : { PORTAL_MFA_AS: actor }) },
          stdin,
          prompter: stdin === undefined ? personAtTerminal(cancelled) : undefined,
        });
        tries.push(r);
        if (r.code !== 2) break;
      } finally {
        process.chdir(cwd);
      }
    }
    const last = tries[tries.length - 1]!;
    if (last.code === 2 || /unexpected error/.test(last.stderr)) return `${example}\n    → exit ${last.code}: ${tries.map((t) => t.stderr.trim()).join(' | ')}`;
    return null;
  }
  const cancelledError = async () => (await importBuilt<{ cancelled: () => Error }>('src/core/errors.js')).cancelled;

  it('every example in help (the root and every command) exits with anything but a usage error', async () => {
    const program = buildProgram(() => async () => {}, { out: () => {}, err: () => {} }) as unknown as Command;
    const cancelled = await cancelledError();
    const shown = new Set(['', ...allPaths(program)]);
    const failures: string[] = [];
    let ran = 0;
    for (const [where, examples] of Object.entries(EXAMPLES)) {
      if (!shown.has(where)) continue;
      for (const example of examples) {
        if (NOT_HERE.test(example)) continue;
        ran++;
        const failure = await runExample(example, cancelled);
        if (failure) failures.push(failure);
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(ran).toBeGreaterThan(60);
  });

  it('every portal-mfa example of the README and the guides in docs/ exits with anything but a usage error', async () => {
    const cancelled = await cancelledError();
    const examples = docsExamples();
    const failures: string[] = [];
    for (const { files, example } of examples) {
      const failure = await runExample(example, cancelled);
      if (failure) failures.push(`${files.join(', ')}: ${failure}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(examples.length).toBeGreaterThan(20);
  });
});

/**
 * The examples of the README and the guides in docs/ (issue 23: every example in the docs runs as
 * printed): each `portal-mfa …` line of a shell block, run as the help examples are. The generated
 * reference (docs/cli-reference.md) holds the help examples, run above. Left out, as above: what
 * names a server or a host that is not here (MySQL URLs, --server, serve), and lines that show a
 * placeholder to fill in (EMAIL, FILE, <…>) or a command substitution. A line printed in several
 * places runs once: its workspace and who runs it do not depend on where it is printed.
 */
function docsExamples(): { files: string[]; example: string }[] {
  const files = ['README.md', ...readdirSync(path.join(REPO_ROOT, 'docs'), { recursive: true }).map((f) => path.join('docs', String(f)))].filter(
    (f) => f.endsWith('.md') && !f.endsWith('cli-reference.md'),
  );
  const out = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    for (const block of text.matchAll(/```(?:sh|bash|shell|console)\n([\s\S]*?)```/g)) {
      // a command continued on the next line (`\`, or a pipe at the end of the line) is one example
      for (const raw of block[1]!
        .replace(/\\\n\s*/g, ' ')
        .replace(/\|(\s*#[^\n]*)?\n\s*/g, '| ')
        .split('\n')) {
        const line = raw
          .replace(/^\$ /, '')
          .replace(/\bnpx portal-mfa\b/, 'portal-mfa')
          .trim();
        if (!/^(\S+=\S+ )*portal-mfa\s/.test(line) && !/\| *portal-mfa\s/.test(line)) continue;
        const command = line.replace(/\s#.*$/, '');
        if (
          NOT_HERE.test(command) ||
          / serve( |$)/.test(command) ||
          /mysql:\/\/|mariadb:\/\/|https?:\/\/|--server|\$\(|\b[A-Z]{3,}\b(?!=)|<[a-z]/.test(command)
        )
          continue;
        out.set(line, [...(out.get(line) ?? []), file]);
      }
    }
  }
  return [...out].map(([example, files]) => ({ files, example }));
}

function allPaths(cmd: Command): string[] {
  return cmd.commands.flatMap((c) => [commandPath(c as never), ...allPaths(c)]);
}
