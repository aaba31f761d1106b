/**
 * `completion bash|zsh|fish`: scripts the shells accept (`bash -n`, `zsh -n`, `fish -n` where the
 * shell is installed) that name every command, and that — run by the shell — offer subcommands,
 * flags and the organisation slugs of the database on the line. `__complete-orgs` is silent and
 * exit 0 whatever goes wrong. Real binary, real SQLite database.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeCliEnv, runCli } from '../support/cli.js';
import { PtySession } from '../support/pty.js';

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

describe('shell completion', () => {
  let env: NodeJS.ProcessEnv;
  let dbUrl: string;
  const scripts: Record<string, string> = {};
  let dir: string;

  beforeAll(async () => {
    env = makeCliEnv().env;
    dir = mkdtempSync(path.join(os.tmpdir(), 'portal-mfa-completion-'));
    // the scripts call `portal-mfa`: put the built launcher on PATH under that name
    const binDir = path.join(dir, 'bin');
    mkdirSync(binDir);
    symlinkSync(BIN, path.join(binDir, 'portal-mfa'));
    env = { ...env, PATH: `${binDir}:${env.PATH}` };
    dbUrl = `sqlite:${path.join(dir, 'portal.db')}`;
    // two profiles for --profile completion (and for `profile list` on a terminal)
    mkdirSync(path.join(env.XDG_CONFIG_HOME!, 'portal-mfa'), { recursive: true });
    writeFileSync(
      path.join(env.XDG_CONFIG_HOME!, 'portal-mfa', 'config.toml'),
      `profile = "dev"\n[profiles.dev]\ndb = "${dbUrl}"\nas = "sam@support.example"\n[profiles.prod]\ndb = "mysql://mfa_admin@db.internal:3306/portal"\n`,
    );
    expect((await runCli(['--db', dbUrl, 'db', 'migrate'], { env })).code).toBe(0);
    expect((await runCli(['--db', dbUrl, 'demo'], { env })).code).toBe(0);
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await runCli(['completion', shell], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      scripts[shell] = r.stdout;
      writeFileSync(path.join(dir, `c.${shell}`), r.stdout);
    }
  });

  it.each(['bash', 'zsh', 'fish'])('the %s script is valid and names every command and nested command', (shell) => {
    const script = scripts[shell]!;
    for (const word of [
      'enroll',
      'verify',
      'login',
      'status',
      'devices',
      'revoke',
      'org',
      'disable-mfa',
      'policy',
      'audit',
      'keys',
      'rotate',
      'demo',
      'db',
      'migrate',
      'completion',
      '--org',
      '--users-from',
      '--dry-run',
      '--json',
      '--profile',
    ]) {
      const needle = shell === 'fish' && word.startsWith('--') ? `-l ${word.slice(2)} ` : word; // fish: `-l org`
      expect(script, `${shell} script lacks ${word}`).toContain(needle);
    }
    expect(script).toContain('__complete-orgs');
    expect(script).not.toContain('__complete-orgs\t'); // the hidden command is not offered
    if (!has(shell)) return; // syntax check only where the shell is installed
    const check = spawnSync(shell, ['-n', path.join(dir, `c.${shell}`)], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });

  it('bash completes subcommands, flags, fixed values, the --org slugs of the database on the line and the --profile names', () => {
    const complete = (words: string[]) => completeWith({}, words);
    const completeWith = (extra: NodeJS.ProcessEnv, words: string[]) => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source ${path.join(dir, 'c.bash')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _portal_mfa; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { env: { ...env, ...extra }, encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').filter(Boolean);
    };
    expect(complete(['portal-mfa', 'org', ''])).toEqual(expect.arrayContaining(['list', 'users', 'policy', 'disable-mfa']));
    expect(complete(['portal-mfa', 'org', ''])).not.toContain('--org');
    expect(complete(['portal-mfa', 'org', 'users', '--m'])).toEqual(['--mfa']);
    expect(complete(['portal-mfa', '--db', dbUrl, 'org', 'users', '--org', ''])).toEqual(['acme', 'globex']);
    expect(complete(['portal-mfa', '--db', dbUrl, 'org', 'users', '--org', 'gl'])).toEqual(['globex']);
    expect(complete(['portal-mfa', 'enroll', '--qr', ''])).toEqual(['utf8', 'ansi', 'none']);
    expect(complete(['portal-mfa', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(complete(['portal-mfa', 'status', '--profile', ''])).toEqual(['dev', 'prod']);
    expect(complete(['portal-mfa', '--profile', 'pr'])).toEqual(['prod']);
    // a profile the environment names wrongly does not hide the others
    expect(completeWith({ PORTAL_MFA_PROFILE: 'nope' }, ['portal-mfa', '--profile', ''])).toEqual(['dev', 'prod']);
    expect(complete(['portal-mfa', 'profile', ''])).toEqual(['list', 'show']);
  });

  it('on a terminal: bash offers the profiles at --profile <TAB><TAB>; profile list marks the one in use', async () => {
    const s = new PtySession(['--norc', '--noprofile', '-i'], { ...env, PORTAL_MFA_PROFILE: 'nope' }, { cols: 80, rows: 24, program: 'bash' });
    try {
      await s.waitFor(/[#$] $/, 'the shell prompt');
      s.type(`source ${path.join(dir, 'c.bash')}\r`);
      s.type('portal-mfa --profile \t\t');
      await s.waitFor(/dev\s+prod/, 'the profile names offered');
      s.type('\u0015'); // Ctrl-U: clear the line
      s.type('PORTAL_MFA_PROFILE= portal-mfa profile list\r');
      await s.waitFor(/CURRENT\s+NAME[\s\S]*[#$] $/, 'profile list and the prompt again');
      const screen = await s.screen();
      const rows = screen.lines.filter((l) => /^(CURRENT|\*|\s+prod)/.test(l));
      expect(rows[0]).toMatch(/^CURRENT\s+NAME\s+DATABASE\s+AS$/);
      expect(rows[1]).toMatch(/^\*\s+dev \(default\)\s+sqlite:\S+\s+sam@support\.example$/);
      for (const l of screen.lines) expect(l.length).toBeLessThanOrEqual(80); // the long path is cut with …, not wrapped
      expect(rows[2]).toMatch(/^\s+prod\s+mysql:\/\/mfa_admin@db\.internal\S+\s+-$/);
      s.type('exit\r');
      await s.exited;
    } finally {
      s.kill();
    }
  });

  it.skipIf(!has('fish'))('fish completes the --org slugs', () => {
    const r = spawnSync('fish', ['-c', `source ${path.join(dir, 'c.fish')}; complete -C 'portal-mfa --db ${dbUrl} org users --org '`], {
      env,
      encoding: 'utf8',
    });
    expect(
      r.stdout
        .split('\n')
        .map((l) => l.split('\t')[0])
        .filter(Boolean),
    ).toEqual(['acme', 'globex']);
  });

  it('__complete-orgs prints the slugs, and nothing (exit 0) when the database is unreachable or misconfigured', async () => {
    const ok = await runCli(['--db', dbUrl, '__complete-orgs'], { env });
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, 'acme\nglobex\n', '']);
    for (const [args, extra] of [
      [['--db', 'sqlite:/nonexistent/dir/x.db', '__complete-orgs'], {}],
      [['__complete-orgs'], { PORTAL_MFA_DB: 'foo' }],
      [['--db', 'mysql://u:p@127.0.0.1:1/x', '__complete-orgs'], {}],
      [['--profile', 'nope', '__complete-orgs'], {}],
    ] as const) {
      const r = await runCli([...args], { env: { ...env, ...extra } });
      expect([r.code, r.stdout, r.stderr], args.join(' ')).toEqual([0, '', '']);
    }
    // and the embedded default is not created by completing
    const fresh = makeCliEnv().env;
    const r = await runCli(['__complete-orgs'], { env: fresh });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    expect(spawnSync('ls', [path.join(fresh.XDG_DATA_HOME!, 'portal-mfa')]).status).not.toBe(0);
  });

  it('an unknown shell is a usage error in one line', async () => {
    const r = await runCli(['completion', 'tcsh'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: command-argument value 'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish\.$/m);
  });
});
