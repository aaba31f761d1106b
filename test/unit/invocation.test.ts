/**
 * Commands printed for the person to run next are commands they can paste (issue 23 item 2): they
 * carry the global flags typed on this command line — never a secret — and a hint's commands for
 * someone else are left alone.
 */
import { describe, expect, it } from 'vitest';
import { carriedFlags, commandLine, pasteable, shellWord } from '../../src/cli/invocation.js';

const typed = (t: { db?: string; profile?: string; keyFile?: string; as?: string }) => ({ typed: t });

describe('commands to paste', () => {
  it('carry --profile, --db, --key-file and --as as typed; a password in --db shows as ***', () => {
    const ctx = typed({ profile: 'prod', db: 'mysql://mfa:s3cret@db.internal:3306/portal', keyFile: '/etc/portal-mfa/key', as: 'alice@acme.example' });
    expect(carriedFlags(ctx)).toEqual([
      '--profile',
      'prod',
      '--db',
      "'mysql://mfa:***@db.internal:3306/portal'", // (quoted: *** would be a glob)
      '--key-file',
      '/etc/portal-mfa/key',
      '--as',
      'alice@acme.example',
    ]);
    expect(commandLine(ctx, 'enroll --confirm -')).not.toContain('s3cret');
    // infrastructure commands and commands after a login need no --as
    expect(commandLine(typed({ db: 'sqlite:./demo.db', as: 'a@b.example' }), 'db migrate', { as: false })).toBe('portal-mfa --db sqlite:./demo.db db migrate');
    // nothing typed: nothing carried (the environment and the profile are still there next time)
    expect(commandLine(typed({}), 'enroll')).toBe('portal-mfa enroll');
  });

  it('quote what a shell would split or expand', () => {
    expect(shellWord('sqlite:/tmp/portal.db')).toBe('sqlite:/tmp/portal.db');
    expect(shellWord("sqlite:/home/o'brien/my portal.db")).toBe(`'sqlite:/home/o'\\''brien/my portal.db'`);
    expect(shellWord('a$HOME`x`')).toBe("'a$HOME`x`'");
  });

  it("a hint's commands for this person get the flags, once; those for support, an admin or the user are left alone", () => {
    const ctx = typed({ db: 'sqlite:./d.db', as: 'devon@example.com' });
    const flags = '--db sqlite:./d.db --as devon@example.com';
    expect(pasteable(ctx, 'enrol first: portal-mfa enroll')).toBe(`enrol first: portal-mfa ${flags} enroll`);
    expect(pasteable(ctx, 'pass --org SLUG (portal-mfa org list shows them)')).toBe(`pass --org SLUG (portal-mfa ${flags} org list shows them)`);
    for (const other of [
      'support sets it with: portal-mfa policy set --smtp-relay smtp://host:port',
      'wait for the lock to expire, or ask support to unlock: portal-mfa unlock --user EMAIL',
      'organisation admins: portal-mfa org users',
      'the user runs portal-mfa login --trust-device on their own machine',
    ])
      expect(pasteable(ctx, other)).toBe(other);
    // a clause of its own after the one naming support is this person's again
    expect(pasteable(ctx, 'ask support for an access code; then type that at portal-mfa login')).toBe(
      `ask support for an access code; then type that at portal-mfa ${flags} login`,
    );
    const once = pasteable(ctx, 'finish with: portal-mfa enroll --confirm -');
    expect(pasteable(ctx, once)).toBe(once);
    expect(pasteable(ctx, 'see `portal-mfa-extra` or /usr/bin/portal-mfa x')).toBe('see `portal-mfa-extra` or /usr/bin/portal-mfa x');
  });
});
