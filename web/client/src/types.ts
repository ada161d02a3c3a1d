// Public types of the client. Request and response bodies come from the generated OpenAPI types
// (schema.gen.ts), so they cannot drift from the server: `npm run check:api` proves the generated
// file is current.
import type { components } from "./schema.gen";

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

/** `POST /api/token` as JSON: an email or username, and the password. */
export type TokenInput = Pick<Schemas["TokenRequest"], "identity" | "password">;
