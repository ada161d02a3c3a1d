// Types of the strong sign-in endpoints (issue 11: MFA, passkeys, security events), written by
// hand from the contract while the server side is built on other branches. Once those
// are merged and `npm run gen:api` has regenerated schema.gen.ts, each of these becomes an alias
// of its generated schema, as in types.ts.

/** A second factor a user can have, as `GET /api/auth/mfa` and the sign-in step name them. */
export type MfaMethod = "totp" | "recovery_code" | (string & {});

/** `GET /api/auth/mfa`: the enabled methods (empty when none) and how many recovery codes are left. */
export interface MfaStatus {
  methods: MfaMethod[];
  recovery_codes_remaining: number;
}

/** `POST /api/auth/mfa/totp/setup`: the new secret, nothing enabled until it is confirmed. */
export interface TotpSetup {
  secret: string;
  otpauth_uri: string;
  /** The otpauth URI as a QR code: SVG markup from the server. */
  qr_svg: string;
}

/** `POST /api/auth/mfa/totp/confirm` and `POST /api/auth/mfa/recovery-codes`: shown once. */
export interface RecoveryCodes {
  recovery_codes: string[];
}

/**
 * `POST /api/auth/login` (and code sign-in) for a user with a second factor: the first factor
 * was right, nobody is signed in yet; finish with `mfa.verify(code)` from this browser.
 */
export interface MfaRequired {
  mfa_required: true;
  methods: MfaMethod[];
}

/** `POST /api/token` with a second factor: the problem's `mfa_token`, and a code for it. */
export interface MfaGrant {
  mfa_token: string;
  code: string;
}

/** One passkey of the user, from `GET /api/auth/passkeys` and `POST /api/auth/passkeys/register`. */
export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export interface PasskeyList {
  passkeys: Passkey[];
}

/** A security event's kind: one of the server's audit event names (`login_succeeded`, ...). */
export type SecurityEventKind = string;

/** One entry of the user's security log. */
export interface SecurityEvent {
  id: number;
  kind: SecurityEventKind;
  occurred_at: string;
  ip: string | null;
  user_agent: string | null;
  session_id: string | null;
  details: Record<string, unknown>;
}

/** `GET /api/auth/security-events`: newest first; `next_cursor` is null on the last page. */
export interface SecurityEventPage {
  items: SecurityEvent[];
  next_cursor: string | null;
}
