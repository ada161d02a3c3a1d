export { awaitsConfirmation, BastionClient, createClient, mfaChallenge, needsMfa } from "./client";
export type {
  ApiResponse,
  ClientEvents,
  ClientOptions,
  CsrfSource,
  HttpMethod,
  Mode,
  RequestOptions,
} from "./client";
export { ApiError, isApiError } from "./errors";
export type { FieldError, Problem } from "./errors";
export { readCookie } from "./cookies";
export type * from "./types";
export type { components, paths } from "./schema.gen";
