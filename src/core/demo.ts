import { wrongState } from './errors.js';

/**
 * The sample portal created by `portal-mfa demo`: two organisations (acme requires MFA),
 * an admin of each, an admin of both, members, a member of both, a support representative and
 * a developer with no organisation. Passwords are documented in the README — demo data only.
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
  role: 'developer' | 'support';
  organisations: { slug: string; role: 'member' | 'admin' }[];
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
    role: 'developer',
    organisations: [{ slug: 'acme', role: 'admin' }],
    story: 'organisation admin of acme',
  },
  {
    email: 'bob@globex.example',
    name: 'Bob Admin',
    password: 'bob-demo-pass',
    role: 'developer',
    organisations: [{ slug: 'globex', role: 'admin' }],
    story: 'organisation admin of globex',
  },
  {
    email: 'olivia@partners.example',
    name: 'Olivia Two-Orgs',
    password: 'olivia-demo-pass',
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
    role: 'developer',
    organisations: [{ slug: 'acme', role: 'member' }],
    story: 'member of acme, which requires MFA: login makes him enrol',
  },
  {
    email: 'erin@acme.example',
    name: 'Erin Engineer',
    password: 'erin-demo-pass',
    role: 'developer',
    organisations: [{ slug: 'acme', role: 'member' }],
    story: 'member of acme',
  },
  {
    email: 'frank@globex.example',
    name: 'Frank Field',
    password: 'frank-demo-pass',
    role: 'developer',
    organisations: [{ slug: 'globex', role: 'member' }],
    story: 'member of globex (MFA optional)',
  },
  {
    email: 'heidi@partners.example',
    name: 'Heidi Both',
    password: 'heidi-demo-pass',
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
    role: 'developer',
    organisations: [],
    story: 'developer in no organisation: enrols on their own',
  },
  {
    email: 'sam@support.example',
    name: 'Sam Support',
    password: 'sam-demo-pass',
    role: 'support',
    organisations: [],
    story: 'support representative: resets anyone with --ticket',
  },
];

/** Generated members (`demo --members N`) share one password so seeding stays fast. */
export const GENERATED_MEMBER_PASSWORD = 'member-demo-pass';

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
