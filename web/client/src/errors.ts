import type { components } from "./schema.gen";

/** One invalid input field, as the server reports it in a problem document's `errors`. */
export type FieldError = components["schemas"]["ProblemField"];

/**
 * An RFC 9457 problem document (`application/problem+json`) as Bastion renders every error,
 * plus whatever extension members a particular error carries (`csrf_token`, ...).
 */
export type Problem = components["schemas"]["ProblemDetails"] & { [extra: string]: unknown };

/**
 * Every failed API call rejects with an `ApiError`: the HTTP status, the server's stable `code`
 * (`invalid_credentials`, `validation_failed`, `precondition_failed`, ...) and the field errors.
 * A request that never got an answer (network down, CORS refused) has `status` 0 and code
 * `network_error`.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly fieldErrors: readonly FieldError[];
  readonly problem: Problem | null;
  readonly headers: Headers;

  constructor(status: number, problem: Problem | null, headers: Headers = new Headers(), fallback?: string) {
    const detail = problem?.detail || problem?.title || fallback || `HTTP ${status}`;
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.headers = headers;
    this.code = problem?.code || (status === 0 ? "network_error" : `http_${status}`);
    this.title = problem?.title || "";
    this.detail = detail;
    this.fieldErrors = problem?.errors ?? [];
  }

  /** The first error reported for `field`, if any. */
  fieldError(field: string): FieldError | undefined {
    return this.fieldErrors.find((error) => error.field === field);
  }

  /** Field errors grouped by field name: `{ email: [...], password: [...] }`. */
  get fieldErrorMap(): Record<string, FieldError[]> {
    const map: Record<string, FieldError[]> = {};
    for (const error of this.fieldErrors) {
      (map[error.field] ??= []).push(error);
    }
    return map;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

function isFieldError(value: unknown): value is FieldError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.field === "string" && typeof v.code === "string" && typeof v.message === "string";
}

/** Parse a problem document defensively: a proxy's HTML error page must not crash the app. */
export function toProblem(value: unknown, status: number): Problem | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const text = (key: string): string => (typeof v[key] === "string" ? (v[key] as string) : "");
  return {
    ...v,
    type: text("type") || "about:blank",
    title: text("title"),
    status: typeof v.status === "number" ? v.status : status,
    detail: text("detail"),
    code: text("code"),
    errors: Array.isArray(v.errors) ? v.errors.filter(isFieldError) : [],
  };
}
