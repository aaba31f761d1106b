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
