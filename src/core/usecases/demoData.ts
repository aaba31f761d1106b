import type { MemberRole, Role } from '../domain.js';
import { wrongState } from '../errors.js';

/**
 * The sample portal created by `portal-mfa demo`: two organisations (acme requires MFA),
 * an admin of each, an admin of both, members, a member of both, a support representative and
 * a developer with no organisation. Passwords are published in docs/demo.md — demo data only.
 */
export interface DemoOrganisation {
  slug: string;
  name: string;
  mfaRequired: boolean;
  graceDays: number | null;
}

export interface DemoAccount {
  email: string;
  name: string;
  password: string;
  /**
   * bcrypt (cost 10, like the portal's own hashes) of the published password, computed once
   * (test/unit/demoPasswords.test.ts checks each): hashing nine passwords on every `demo` run cost ~0.7 s of
   * CPU and protected nothing — the passwords are published in docs/demo.md.
   */
  passwordHash: string;
  role: Role;
  organisations: { slug: string; role: MemberRole }[];
  /** what this account is for, shown in the "try this next" list */
  story: string;
}

export const DEMO_ORGANISATIONS: DemoOrganisation[] = [
  { slug: 'acme', name: 'Acme Energy', mfaRequired: true, graceDays: null },
  { slug: 'globex', name: 'Globex Utilities', mfaRequired: false, graceDays: null },
];

export const DEMO_ACCOUNTS: DemoAccount[] = [
  {
    email: 'alice@acme.example',
    name: 'Alice Admin',
    password: 'alice-demo-pass',
    passwordHash: '$2b$10$vD0CXmFp5kgj0tyhzH8kou0b2r2wb9B7IIeEszdN.hpdD8IqWPaRe',
    role: 'developer',
    organisations: [{ slug: 'acme', role: 'admin' }],
    story: 'organisation admin of acme',
  },
  {
    email: 'bob@globex.example',
    name: 'Bob Admin',
    password: 'bob-demo-pass',
    passwordHash: '$2b$10$LpfsCjawYTyebdHTgXB6cegyOwiie9RmYnnTMQFob9xuBS.wlhGpK',
    role: 'developer',
    organisations: [{ slug: 'globex', role: 'admin' }],
    story: 'organisation admin of globex',
  },
  {
    email: 'olivia@partners.example',
    name: 'Olivia Two-Orgs',
    password: 'olivia-demo-pass',
    passwordHash: '$2b$10$TDRjTcTMw0.wttxWXb9tKeCiPr.7T6s1JhCJYB6F8uLhuoB3hPD52',
    role: 'developer',
    organisations: [
      { slug: 'acme', role: 'admin' },
      { slug: 'globex', role: 'admin' },
    ],
    story: 'admin of both organisations (must pick one with --org)',
  },
  {
    email: 'dave@acme.example',
    name: 'Dave Developer',
    password: 'dave-demo-pass',
    passwordHash: '$2b$10$u7pq0y3eDnYd4dyxXvVy4O2AsjJ6G6uEBQvtWvQTVirxERSTK5jka',
    role: 'developer',
    organisations: [{ slug: 'acme', role: 'member' }],
    story: 'member of acme, which requires MFA: login makes him enrol',
  },
  {
    email: 'erin@acme.example',
    name: 'Erin Engineer',
    password: 'erin-demo-pass',
    passwordHash: '$2b$10$ATmohW6Ek0skfMoFZD9jL.xSFk9sUOx3DENQlvwdDn1SzEhN8ZbB.',
    role: 'developer',
    organisations: [{ slug: 'acme', role: 'member' }],
    story: 'member of acme',
  },
  {
    email: 'frank@globex.example',
    name: 'Frank Field',
    password: 'frank-demo-pass',
    passwordHash: '$2b$10$b8orXOdAFgimX6m8F4UkNexeEYHTm3xzjNZJoliP11BQSt.PLgb6S',
    role: 'developer',
    organisations: [{ slug: 'globex', role: 'member' }],
    story: 'member of globex (MFA optional)',
  },
  {
    email: 'heidi@partners.example',
    name: 'Heidi Both',
    password: 'heidi-demo-pass',
    passwordHash: '$2b$10$DRVTsSE4.NbJbL7C0BwuDeXehgS2sfmeci7wIOV6PwCHSOCan6gTO',
    role: 'developer',
    organisations: [
      { slug: 'acme', role: 'member' },
      { slug: 'globex', role: 'member' },
    ],
    story: 'member of both organisations',
  },
  {
    email: 'devon@example.com',
    name: 'Devon Solo',
    password: 'devon-demo-pass',
    passwordHash: '$2b$10$RYc49hwtpTzDkyHM/.HpFu2a/kUXxAEaveX74Z52o6auwqyEA8kMO',
    role: 'developer',
    organisations: [],
    story: 'developer in no organisation: enrols on their own',
  },
  {
    email: 'sam@support.example',
    name: 'Sam Support',
    password: 'sam-demo-pass',
    passwordHash: '$2b$10$ESf.6tZgrULte508zF2AseFcKmZ.ax7NZgkQLn5ABQFbrTjTOxrem',
    role: 'support',
    organisations: [],
    story: 'support representative: resets anyone with --ticket',
  },
];

/** Generated members (`demo --members N`) share one password so seeding stays fast. */
export const GENERATED_MEMBER_PASSWORD = 'member-demo-pass';
/** bcrypt (cost 10) of GENERATED_MEMBER_PASSWORD, shared by every generated member. */
export const GENERATED_MEMBER_PASSWORD_HASH = '$2b$10$SmOL/EvsuYbZ01nFOLxbhuj8O1r41v1bpKPrQ4LfL8HaX2kM056jm';

export function generatedMemberEmail(n: number): string {
  return `member-${String(n).padStart(6, '0')}@acme.example`;
}

const DEMO_EMAILS = new Set(DEMO_ACCOUNTS.map((a) => a.email));
const GENERATED_EMAIL = /^member-\d{6,7}@acme\.example$/;
/** SQL LIKE pattern that finds the candidates for generated members (checked exactly by isDemoEmail). */
export const GENERATED_MEMBER_LIKE = 'member-%@acme.example';

/** True for the demo's own accounts: the named ones and the generated `member-NNNNNN@acme.example`. */
export function isDemoEmail(email: string): boolean {
  return DEMO_EMAILS.has(email) || GENERATED_EMAIL.test(email);
}

/** What in a database is not the demo's own (found inside the demo's write transaction). */
export interface RealData {
  userCount: number;
  /** a few of them, for the message */
  userSample: string[];
  organisations: string[];
}

/**
 * The infrastructure guard of `demo` (SPEC §3): demo writes accounts whose passwords are published,
 * including a support representative who may reset anyone, and `--reset` deletes the demo
 * organisations with their members. Neither may happen to a database that holds real data, so any
 * user or organisation that is not the demo's own is a refusal (exit 6) and nothing is written.
 */
export function refuseRealData(found: RealData): void {
  if (found.userCount === 0 && found.organisations.length === 0) return;
  const parts: string[] = [];
  if (found.userCount > 0) {
    const more = found.userCount > found.userSample.length ? `, … ${found.userCount - found.userSample.length} more` : '';
    parts.push(`${found.userCount} user(s) that are not demo accounts (${found.userSample.join(', ')}${more})`);
  }
  if (found.organisations.length > 0) parts.push(`organisation(s) that are not the demo's (${found.organisations.slice(0, 5).join(', ')})`);
  throw wrongState(`refusing to write demo data: this database holds ${parts.join(' and ')}; nothing was changed`, {
    hint: 'demo writes accounts with published passwords: run it on a database of its own, e.g. --db sqlite:./demo.db',
    details: { nonDemoUsers: found.userCount, nonDemoOrganisations: found.organisations },
  });
}
