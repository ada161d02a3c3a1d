// Public types of the client. Request and response bodies come from the generated OpenAPI types
// (schema.gen.ts), so they cannot drift from the server: `npm run check:api` proves the generated
// file is current.
import type { components } from "./schema.gen";
import type { MfaGrant, MfaRequired } from "./strong";

export type * from "./strong";

type Schemas = components["schemas"];

export type User = Schemas["UserPublic"];
export type SessionInfo = Schemas["SessionPublic"];
export type SessionState = Schemas["SessionState"];
export type SignedIn = Schemas["SignedIn"];
export type Registered = Schemas["Registered"];
export type LoginInput = Schemas["LoginInput"];
export type RegisterInput = Schemas["RegisterInput"];

/** `POST /api/token` and `POST /api/token/refresh` answers: access + refresh token, expires_in. */
export type TokenPair = Schemas["TokenPair"];

/** `POST /api/token` as JSON with a password: an email or username, and the password. */
export type PasswordGrant = Pick<Schemas["TokenRequest"], "identity" | "password">;

/** `POST /api/token` as JSON with a sign-in code from the mail, in place of the password. */
export type CodeGrant = Pick<Schemas["CodeTokenRequest"], "identity" | "code">;

/**
 * `POST /api/token`: a password grant or a code grant; for a user with a second factor, then the
 * `mfa_token` of the `401 mfa_required` answer with a code.
 */
export type TokenInput = PasswordGrant | CodeGrant | MfaGrant;

/**
 * What a first factor (password, mailed code) leads to: signed in, or, for a user with a second
 * factor, the MFA step (`needsMfa(result)` tells them apart).
 */
export type SignInResult = SignedIn | MfaRequired;

// ---- the account lifecycle (confirmation, reset, change, codes) ---------------------------------

/** `202` answer of register (with confirmation `required`), resend, forgot, code request, email change. */
export type Accepted = Schemas["Accepted"];
type AcceptedAs<S extends Accepted["status"]> = Accepted & { status: S };

/** `200` answer of password reset and change: `{status: "password_reset" | "password_changed"}`. */
export type Done = Schemas["Done"];

/**
 * `POST /api/auth/register`: with email confirmation `required` (the default) a `202`
 * `{status: "confirmation_sent"}` and nobody is signed in; with `optional` or `off` a `201` with
 * the signed-in user and session, as before.
 */
export type RegisterResult = AcceptedAs<"confirmation_sent"> | Registered;

/** `POST /api/auth/confirm`: the confirmed user (it does not sign in). */
export type Confirmed = Schemas["Confirmed"];

/** One signed-in device of the user, from `GET /api/auth/sessions`. */
export type DeviceSession = Schemas["DeviceSession"];
export type SessionList = Schemas["SessionList"];
export type SessionsEnded = Schemas["SessionsEnded"];
export type Reauthenticated = Schemas["Reauthenticated"];
