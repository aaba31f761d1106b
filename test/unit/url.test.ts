import { describe, expect, it } from 'vitest';
import { PortalMfaError } from '../../src/core/errors.js';
import { describeTarget, maskDatabaseUrl, parseDatabaseUrl, type DatabaseTarget } from '../../src/db/url.js';

/** Parse `raw`, expecting a usage error (exit 2); returns the error for further checks. */
function usageFailure(raw: string): PortalMfaError {
  let caught: unknown;
  try {
    parseDatabaseUrl(raw);
  } catch (e) {
    caught = e;
  }
  expect(caught, `parseDatabaseUrl(${JSON.stringify(raw)}) should throw`).toBeInstanceOf(PortalMfaError);
  const err = caught as PortalMfaError;
  expect(err.kind, `kind for ${JSON.stringify(raw)}: ${err.message}`).toBe('usage');
  expect(err.code).toBe('invalid_input');
  return err;
}

/** Everything a user would see of an error. */
const shown = (e: PortalMfaError) => `${e.message} ${e.hint ?? ''}`;

describe('parseDatabaseUrl: sqlite', () => {
  it('sqlite:PATH, absolute and relative', () => {
    expect(parseDatabaseUrl('sqlite:/var/lib/portal/portal.db')).toEqual({
      dialect: 'sqlite',
      filename: '/var/lib/portal/portal.db',
      embedded: false,
    });
    expect(parseDatabaseUrl('sqlite:data/portal.db')).toEqual({ dialect: 'sqlite', filename: 'data/portal.db', embedded: false });
  });

  it('sqlite://PATH: the two slashes are not part of the path', () => {
    expect(parseDatabaseUrl('sqlite:///tmp/x.db')).toEqual({ dialect: 'sqlite', filename: '/tmp/x.db', embedded: false });
    expect(parseDatabaseUrl('sqlite://rel.db')).toEqual({ dialect: 'sqlite', filename: 'rel.db', embedded: false });
  });

  it('scheme is case-insensitive and surrounding blanks are ignored', () => {
    expect(parseDatabaseUrl('  SQLite:/tmp/y.db \n')).toEqual({ dialect: 'sqlite', filename: '/tmp/y.db', embedded: false });
  });

  it('keeps spaces and non-ASCII inside the path', () => {
    expect(parseDatabaseUrl('sqlite:/tmp/my dir/pörtal.db')).toMatchObject({ filename: '/tmp/my dir/pörtal.db' });
  });

  it('sqlite: and sqlite:// with no file are usage errors', () => {
    expect(shown(usageFailure('sqlite:'))).toMatch(/no file/);
    expect(shown(usageFailure('sqlite://'))).toMatch(/no file/);
  });
});

describe('parseDatabaseUrl: mysql / mariadb', () => {
  it('mysql://user:pass@host:port/db', () => {
    expect(parseDatabaseUrl('mysql://portal:s3cret@db.internal:3307/portal_prod')).toEqual({
      dialect: 'mysql',
      host: 'db.internal',
      port: 3307,
      user: 'portal',
      password: 's3cret',
      database: 'portal_prod',
      params: {},
    });
  });

  it('port defaults to 3306', () => {
    expect(parseDatabaseUrl('mysql://portal:pw@db.internal/portal')).toMatchObject({ host: 'db.internal', port: 3306, database: 'portal' });
  });

  it('percent-encoded user, password and database are decoded', () => {
    const t = parseDatabaseUrl('mysql://app%2Buser:p%40ss%3Aw%2Fo%23rd%25@127.0.0.1:3306/my%2Ddb');
    expect(t).toMatchObject({ dialect: 'mysql', user: 'app+user', password: 'p@ss:w/o#rd%', database: 'my-db', host: '127.0.0.1' });
  });

  it('mariadb:// is an alias of mysql://', () => {
    expect(parseDatabaseUrl('mariadb://u:pw@maria.local:3310/portal')).toEqual({
      dialect: 'mysql',
      host: 'maria.local',
      port: 3310,
      user: 'u',
      password: 'pw',
      database: 'portal',
      params: {},
    });
    expect(parseDatabaseUrl('MariaDB://u@h/d')).toMatchObject({ dialect: 'mysql', user: 'u', password: '', database: 'd' });
  });

  it('query parameters and IPv6 hosts', () => {
    expect(parseDatabaseUrl('mysql://u:pw@[::1]:3306/portal?ssl=true&x=1')).toMatchObject({
      host: '::1',
      port: 3306,
      params: { ssl: 'true', x: '1' },
    });
  });

  it('a missing database name is a usage error that does not show the password', () => {
    for (const raw of ['mysql://u:hunter2@db.internal', 'mysql://u:hunter2@db.internal/', 'mysql://u:hunter2@db.internal:3306/']) {
      const e = usageFailure(raw);
      expect(shown(e)).toMatch(/names no database/);
      expect(shown(e)).not.toContain('hunter2');
    }
  });

  it('a database name containing a slash is refused', () => {
    const e = usageFailure('mysql://u:hunter2@h/a%2Fb');
    expect(shown(e)).not.toContain('hunter2');
  });

  it('an invalid port is a usage error that does not show the password', () => {
    for (const raw of ['mysql://u:hunter2@h:notaport/db', 'mysql://u:hunter2@h:99999/db']) {
      expect(shown(usageFailure(raw))).not.toContain('hunter2');
    }
  });

  it('an un-encoded "/" or "#" in the password is a usage error that does not show the password', () => {
    for (const raw of ['mysql://u:hun/ter2@h/db', 'mysql://u:hun#ter2@h/db', 'mysql://u:hun?ter2@h/db']) {
      const e = usageFailure(raw);
      expect(shown(e)).not.toContain('hun');
      expect(shown(e)).not.toContain('ter2');
    }
  });

  it('a malformed percent-escape in the credentials is a usage error (not a crash)', () => {
    // decodeURIComponent('%zz') throws URIError; that must not escape as an "unexpected error"
    usageFailure('mysql://u:%zz@h/db');
    usageFailure('mysql://%E0%A4%A@h/db');
  });
});

describe('parseDatabaseUrl: refused input', () => {
  it('empty or blank', () => {
    expect(shown(usageFailure(''))).toMatch(/empty/);
    expect(shown(usageFailure('   '))).toMatch(/empty/);
  });

  it('unsupported schemes and garbage', () => {
    for (const raw of ['ftp://x', 'postgres://u:pw@h/db', 'portal.db', '/tmp/portal.db', 'http://h/db', 'sqlite3:/x.db', 'mysql:/h/db']) {
      expect(shown(usageFailure(raw)), raw).toMatch(/unsupported database URL|not a valid URL/);
    }
  });

  it('the unsupported-scheme message masks a password', () => {
    const e = usageFailure('postgres://admin:hunter2@h/db');
    expect(e.message).toContain('postgres://admin:***@h/db');
    expect(shown(e)).not.toContain('hunter2');
  });

  it('control characters anywhere', () => {
    for (const raw of ['sqlite:/tmp/x\n.db', 'sqlite:/tmp/x\u0000.db', 'mysql://u:pw@h/db\u001b[31m', 'mysql://u:p\tw@h/db', 'sqlite:/tmp/\r.db']) {
      expect(shown(usageFailure(raw))).toMatch(/control characters/);
    }
  });
});

describe('maskDatabaseUrl', () => {
  it('replaces the password with ***', () => {
    expect(maskDatabaseUrl('mysql://portal:s3cret@db:3306/portal')).toBe('mysql://portal:***@db:3306/portal');
    expect(maskDatabaseUrl('mariadb://u:p%40ss@h/d')).toBe('mariadb://u:***@h/d');
    expect(maskDatabaseUrl('MYSQL://u:x@h/d')).toBe('MYSQL://u:***@h/d');
  });

  it('leaves URLs without a password alone', () => {
    expect(maskDatabaseUrl('mysql://portal@db:3306/portal')).toBe('mysql://portal@db:3306/portal');
    expect(maskDatabaseUrl('mysql://db:3306/portal')).toBe('mysql://db:3306/portal');
    expect(maskDatabaseUrl('sqlite:/tmp/x.db')).toBe('sqlite:/tmp/x.db');
  });

  it('never shows any part of a password, whatever characters it holds', () => {
    // every piece between separators is distinctive, so a leak of any piece is caught
    const passwords = ['Qx7Zk9', 'Qx7@Zk9', 'Qx7/Zk9', 'Qx7#Zk9', 'Qx7?Zk9', 'Qx7:Zk9', 'Qx7@Zk9@Wv5', 'Qx7%40Zk9', 'Qx7 Zk9', 'Qx7@Zk9/Wv5'];
    for (const pw of passwords) {
      for (const url of [`mysql://u:${pw}@h:3306/db`, `mariadb://u:${pw}@h/db?ssl=1`, `mysql://u:${pw}@h`]) {
        const masked = maskDatabaseUrl(url);
        expect(masked, url).toContain('***');
        for (const part of pw.split(/[@/#?: %]/).filter((p) => p.length >= 2)) {
          expect(masked, `${url} → ${masked}`).not.toContain(part);
        }
      }
    }
  });
});

describe('describeTarget', () => {
  it('sqlite: the path, and whether it is the embedded default', () => {
    expect(describeTarget({ dialect: 'sqlite', filename: '/tmp/x.db', embedded: false })).toBe('sqlite:/tmp/x.db');
    expect(describeTarget({ dialect: 'sqlite', filename: '/home/u/.local/share/portal-mfa/portal.db', embedded: true })).toBe(
      'sqlite:/home/u/.local/share/portal-mfa/portal.db (embedded default)',
    );
  });

  it('mysql: user, masked password, host, port and database — never the password', () => {
    const t = parseDatabaseUrl('mysql://portal:hunter2@db.internal/portal_prod');
    const d = describeTarget(t);
    expect(d).toBe('mysql://portal:***@db.internal:3306/portal_prod');
    expect(d).not.toContain('hunter2');
  });

  it('mysql without a password or user', () => {
    const base = { dialect: 'mysql', host: 'h', port: 3306, database: 'd', params: {} } as const;
    expect(describeTarget({ ...base, user: 'u', password: '' } as DatabaseTarget)).toBe('mysql://u@h:3306/d');
    expect(describeTarget({ ...base, user: '', password: '' } as DatabaseTarget)).toBe('mysql://h:3306/d');
  });

  it('a password with special characters never appears', () => {
    const t = parseDatabaseUrl('mysql://u:p%40ss%2Fw0rd@h:3399/d');
    expect(t.dialect === 'mysql' && t.password).toBe('p@ss/w0rd');
    const d = describeTarget(t);
    expect(d).toBe('mysql://u:***@h:3399/d');
    expect(d).not.toMatch(/p@ss|w0rd|p%40ss/);
  });
});
