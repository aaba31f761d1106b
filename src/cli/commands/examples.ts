import type { CommandUnknownOpts } from '@commander-js/extra-typings';

/**
 * 2–4 examples for every command's help (SPEC §6), by command path. Kept in one table so a test
 * can check that every command has them and that each one parses (test/unit/help.test.ts):
 * an example that no longer matches the command's flags fails the build, not the support rep.
 * Entries for commands not (yet) registered are ignored.
 */
export const EXAMPLES: Record<string, string[]> = {
  enroll: [
    'portal-mfa enroll --as devon@example.com                 # QR code, then type a code from the app',
    'portal-mfa enroll --no-confirm --json > pending.json     # scripted: the otpauth URI, left pending',
    'portal-mfa enroll --confirm 123456                       # activate the pending enrolment',
    'portal-mfa enroll --qr none                              # no QR code: type the key by hand',
  ],
  verify: [
    'portal-mfa verify --code 123456                          # your own code (exit 0 valid, 1 wrong)',
    'portal-mfa verify --user devon@example.com --code -      # support: the code read from stdin',
    "portal-mfa verify --user devon@example.com --diagnose    # is the phone's clock off?",
    'portal-mfa verify --trust-device --label laptop          # skip the code on this device for 30 days',
  ],
  login: [
    'portal-mfa login --as alice@acme.example                 # password, then a code',
    'portal-mfa login --trust-device --label work-laptop      # later logins on this machine skip the code',
    'echo "$PASSWORD" | portal-mfa login --as alice@acme.example --password-stdin --code 123456',
  ],
  logout: ['portal-mfa logout', 'portal-mfa logout --quiet'],
  status: [
    'portal-mfa status                                        # your own MFA state',
    "portal-mfa status --user devon@example.com               # support or org admin: someone else's",
    'portal-mfa status --user bob@globex.example --org globex --json',
  ],
  'devices list': [
    'portal-mfa devices list                                  # your trusted devices',
    'portal-mfa devices list --user dave@acme.example --org acme --all',
    'portal-mfa devices list --json',
  ],
  'devices revoke': [
    'portal-mfa devices revoke 12 14                          # by id (from devices list)',
    'portal-mfa devices revoke --all                          # every device of yours',
    'portal-mfa devices revoke --all --user dave@acme.example --org acme --yes',
  ],
  replace: [
    'portal-mfa replace                                       # code from the old device, then enrol the new one',
    'portal-mfa replace --code 123456 --no-confirm --json     # scripted: prove the old device, URI of the new',
    'portal-mfa replace --confirm 654321                      # activate the new device',
  ],
  disable: [
    'portal-mfa disable                                       # your own MFA (asks for password and code)',
    'portal-mfa disable --user devon@example.com --ticket SUP-1234 --reason "lost phone"',
    'portal-mfa disable --user dave@acme.example --org acme --yes',
  ],
  'recovery-codes regenerate': ['portal-mfa recovery-codes regenerate', 'portal-mfa recovery-codes regenerate --json > codes.json'],
  'org list': ['portal-mfa org list', 'portal-mfa org list --json'],
  'org users': [
    'portal-mfa org users --org acme',
    'portal-mfa org users --org acme --mfa off                # who still lacks MFA',
    'portal-mfa org users --org acme --csv > acme-mfa.csv',
    'portal-mfa org users --org acme --json | jq -r .email    # NDJSON, one member a line',
  ],
  'org policy': [
    'portal-mfa org policy --org acme --require --grace-days 14',
    'portal-mfa org policy --org acme --no-require --yes',
    'portal-mfa org policy --org acme --device-trust off',
  ],
  'org disable-mfa': [
    'portal-mfa org disable-mfa --org acme --user dave@acme.example erin@acme.example',
    'portal-mfa org disable-mfa --org acme --users-from leavers.csv --dry-run',
    'portal-mfa org disable-mfa --org acme --users-from - --ticket SUP-77 --yes < emails.txt',
  ],
  'org remind': ['portal-mfa org remind --org acme --dry-run', 'portal-mfa org remind --org acme'],
  audit: [
    'portal-mfa audit                                         # the latest 50 events you may see',
    'portal-mfa audit --user devon@example.com --since 7d',
    'portal-mfa audit --org acme --action "mfa.*" --limit 200 --json',
  ],
  'keys rotate': [
    'openssl rand -base64 32 > new.key && portal-mfa keys rotate --new-key-file new.key',
    'portal-mfa keys rotate --new-key-file new.key --key-file current.key',
  ],
  'keys check': ['portal-mfa keys check', 'portal-mfa keys check --json'],
  demo: [
    'portal-mfa demo                                          # sample organisations and accounts',
    'portal-mfa demo --reset                                  # start the demo over',
    'portal-mfa demo --members 10000 --json                   # and 10,000 generated members in acme',
  ],
  'db migrate': ['portal-mfa db migrate', 'portal-mfa --db mysql://mfa@db.internal:3306/portal db migrate', 'portal-mfa --profile prod db migrate'],
  'db rollback': ['portal-mfa db rollback', 'portal-mfa db rollback --all --yes'],
  'db status': ['portal-mfa db status', 'portal-mfa db status --json'],
  unlock: ['portal-mfa unlock --user devon@example.com --ticket SUP-1234', 'portal-mfa unlock --user dave@acme.example --org acme --reason "called in"'],
  'access-code issue': [
    'portal-mfa access-code issue --user devon@example.com --ticket SUP-1234',
    'portal-mfa access-code issue --user devon@example.com --ticket SUP-1234 --minutes 30 --uses 1',
  ],
  'access-code revoke': [
    'portal-mfa access-code revoke --user devon@example.com --ticket SUP-1234',
    'portal-mfa access-code revoke --user dave@acme.example --org acme --dry-run',
  ],
  'users list': ['portal-mfa users list --mfa off', 'portal-mfa users list --locked --json', 'portal-mfa users list --org acme --csv > users.csv'],
  'notify list': ['portal-mfa notify list --status pending', 'portal-mfa notify list --user devon@example.com --json'],
  'notify send': ['portal-mfa notify send', 'portal-mfa notify send --limit 100'],
  completion: [
    'portal-mfa completion bash > ~/.local/share/bash-completion/completions/portal-mfa',
    'mkdir -p ~/.zfunc && portal-mfa completion zsh > ~/.zfunc/_portal-mfa    # fpath=(~/.zfunc $fpath) in ~/.zshrc',
    'portal-mfa completion fish > ~/.config/fish/completions/portal-mfa.fish',
  ],
  help: ['portal-mfa help org users', 'portal-mfa help exit-codes'],
};

/** The path of a command below the program: "org users". */
export function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Attach each command's examples to its help (after the options). */
export function addExamples(program: CommandUnknownOpts): void {
  const visit = (cmd: CommandUnknownOpts) => {
    for (const sub of cmd.commands) {
      const examples = EXAMPLES[commandPath(sub)];
      if (examples) sub.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`);
      visit(sub);
    }
  };
  visit(program);
}
