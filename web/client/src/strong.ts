// Types of the strong sign-in endpoints (issue 11: MFA, passkeys, security events), from the
// generated OpenAPI types like the rest of types.ts. (The WebAuthn options keep the DOM's own
// JSON types: they are what PublicKeyCredential.parse*OptionsFromJSON reads.)
import type { components } from "./schema.gen";

type Schemas = components["schemas"];

/** `GET /api/auth/mfa`: the enabled methods (empty when none) and how many recovery codes are left. */
export type MfaStatus = Schemas["MfaMethods"];

/** A second factor a user can have, as `GET /api/auth/mfa` and the sign-in step name them. */
export type MfaMethod = MfaStatus["methods"][number];

/** `POST /api/auth/mfa/totp/setup`: the new secret, its otpauth URI and QR code (SVG markup); nothing enabled yet. */
export type TotpSetup = Schemas["TotpSetupStarted"];

/** `POST /api/auth/mfa/totp/confirm` and `POST /api/auth/mfa/recovery-codes`: shown once. */
export type RecoveryCodes = Schemas["RecoveryCodes"];

/**
 * `POST /api/auth/login` (and code sign-in) for a user with a second factor: the first factor
 * was right, nobody is signed in yet; finish with `mfa.verify(code)` from this browser.
 */
export type MfaRequired = Schemas["MfaChallengeStarted"];

/** `POST /api/token` with a second factor: the `mfa_token` of the `401 mfa_required`, and a code. */
export type MfaGrant = Pick<Schemas["MfaTokenRequest"], "mfa_token" | "code">;

/** One passkey of the user, from `GET /api/auth/passkeys` and `POST /api/auth/passkeys/register`. */
export type Passkey = Schemas["PasskeyPublic"];
export type PasskeyList = Schemas["PasskeyList"];

/** One entry of the user's security log; `kind` is one of the server's audit event names. */
export type SecurityEvent = Schemas["SecurityEventPublic"];

/** `GET /api/auth/security-events`: newest first; `next_cursor` is null on the last page. */
export type SecurityEventPage = Schemas["SecurityEventPage"];
