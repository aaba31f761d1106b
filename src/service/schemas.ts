/**
 * JSON schemas of the API (request bodies, query strings, responses), shared by the routes and the
 * OpenAPI document (docs/openapi.json is generated from them). Requests are validated against them
 * before a handler runs (unknown properties refused); responses are serialised through them, so a
 * field not named here never leaves the service.
 */

type Schema = Record<string, unknown>;

export const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
export const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
export const bool = (extra: Schema = {}): Schema => ({ type: 'boolean', ...extra });
export const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as string, 'null'] });
/** A time: ISO-8601 UTC (SPEC §6). */
export const time = (description?: string): Schema => ({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
export const nullableTime = (description?: string): Schema => ({ type: ['string', 'null'], format: 'date-time', ...(description ? { description } : {}) });
export const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });

/** An object: every property listed is required unless named in `optional`; nothing else allowed. */
export function obj(properties: Record<string, Schema>, optional: string[] = [], extra: Schema = {}): Schema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
    ...extra,
  };
}

/** A request body: only the listed properties, the required ones named. */
export function body(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', properties, required, additionalProperties: false };
}

export const email = (description = 'an email address'): Schema => str({ minLength: 3, maxLength: 254, description });
export const password = str({ minLength: 1, maxLength: 1024, description: "the person's portal password (never logged, never stored)" });
export const code = str({ minLength: 1, maxLength: 64, description: 'a 6-digit code from the authenticator app' });
export const ticket = str({ minLength: 1, maxLength: 200, description: 'the support ticket reference (support acting on another user)' });
export const reason = str({ minLength: 1, maxLength: 1000 });
export const slug = str({ minLength: 1, maxLength: 100, description: "an organisation's slug" });
export const label = str({ minLength: 1, maxLength: 100, description: 'a name for the trusted device' });
export const dryRun = bool({ description: 'say what would change, change nothing' });

export const errorSchema: Schema = {
  $id: 'Error',
  type: 'object',
  description: "every error: a stable code (the same as the CLI's --json codes) and a message",
  properties: {
    error: {
      type: 'object',
      properties: {
        code: str({ description: 'stable, machine-readable (e.g. wrong_code, locked, unauthenticated)' }),
        message: str(),
        details: { type: 'object', additionalProperties: true },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

/** The error responses every route may give, with the status each kind maps to (src/service/errors.ts). */
export function errors(...statuses: number[]): Record<number, Schema> {
  return Object.fromEntries([400, 401, 429, 503, ...statuses].map((s) => [s, { description: STATUS_TEXT[s] ?? 'error', $ref: 'Error#' }]));
}

const STATUS_TEXT: Record<number, string> = {
  400: 'invalid input',
  401: 'not authenticated, or a wrong password, code or token',
  403: 'the caller may not do this',
  404: 'no such user, organisation or device (only support learns that a user does not exist)',
  409: 'wrong state (e.g. MFA not enabled, nothing pending, already enrolled)',
  413: 'body too large',
  429: 'locked out or rate-limited (Retry-After when known)',
  503: 'database unavailable',
};

/** The second factors that complete a sign-in. */
export const proofSchema: Schema = {
  oneOf: [
    obj({ kind: { type: 'string', enum: ['code', 'recovery-code', 'access-code'] }, code: str({ minLength: 1, maxLength: 64 }) }),
    obj({ kind: { type: 'string', const: 'device' }, token: str({ minLength: 1, maxLength: 200 }) }),
  ],
  description: 'a code from the app, a recovery code, a temporary access code, or a trusted-device token',
};

export const trustDeviceSchema = body(
  { label, previousToken: str({ minLength: 1, maxLength: 200, description: "this machine's earlier device token (replaced)" }) },
  ['label'],
);

export const deviceIssuedSchema = obj(
  {
    id: int(),
    token: str({ description: 'shown this once; stored only as a hash' }),
    expiresAt: time(),
    replacedDeviceId: nullable(int({ description: "this machine's earlier device, revoked by the re-trust" })),
  },
  [],
  { description: 'a trusted device: its token replaces the code at sign-in until it expires' },
);

export const statusSchema = obj({
  email: str(),
  name: str(),
  role: str(),
  mfa: { type: 'string', enum: ['none', 'pending', 'active'] },
  enrolledAt: nullableTime(),
  confirmedAt: nullableTime(),
  lastUsedAt: nullableTime(),
  pendingSince: nullableTime(),
  consecutiveFailures: int(),
  locked: bool(),
  lockedUntil: nullableTime(),
  hardLocked: bool(),
  trustedDevices: int(),
  recoveryCodesLeft: int(),
  accessCode: {
    type: ['object', 'null'],
    properties: { expiresAt: time(), usesLeft: int() },
    required: ['expiresAt', 'usesLeft'],
    additionalProperties: false,
  },
  enrolmentDeadlines: arr(obj({ organisation: str(), deadline: nullableTime('null: required now') })),
});

export const pendingEnrolmentSchema = obj({
  email: str(),
  secret: str({ description: 'base32, for manual entry; shown once' }),
  otpauthUri: str({ description: 'otpauth://totp/… for authenticator apps' }),
  qrSvg: str({ description: 'the otpauth URI as a QR code (SVG), for the portal page' }),
  replacing: bool(),
});

export const deviceViewSchema = obj({
  id: int(),
  label: str(),
  state: { type: 'string', enum: ['active', 'expired', 'revoked'] },
  createdAt: time(),
  lastUsedAt: nullableTime(),
  expiresAt: time(),
  revokedAt: nullableTime(),
  thisMachine: bool({ description: 'the device whose token was sent in X-Device-Token' }),
});

export const userSchema = obj({ id: str(), email: str(), name: str(), role: str() });

/** Who may call a route, for the OpenAPI document: a session or a service key. */
export const callers: { [label: string]: string[] }[] = [{ session: [] }, { serviceKey: [] }];

/** Instead of the password in a sensitive call: the token of an earlier POST /v1/reauth (a few minutes). */
export const reauthToken = str({ minLength: 1, maxLength: 1024, description: 'from POST /v1/reauth: stands for the password for a few minutes' });
