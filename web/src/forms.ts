import { isApiError } from "@bastion/client";
import SIGN_IN from "./signin-wording.json";

export type FieldErrors<F extends string> = Partial<Record<F, string>>;

export interface FormFailure<F extends string> {
  /** One sentence for the form's alert. */
  message: string;
  /** Errors to show next to their fields. */
  fields: FieldErrors<F>;
}

// The sign-in texts are shared with the server-rendered /login page (signin-wording.json), so
// both pages answer a failure in the same words.
const MESSAGES: Record<string, string> = {
  network_error: "The server could not be reached. Check your connection and try again.",
  invalid_credentials: SIGN_IN.invalid_credentials,
  account_disabled: SIGN_IN.account_disabled,
  csrf_failed: SIGN_IN.csrf_failed,
  rate_limited: SIGN_IN.rate_limited,
  email_unconfirmed: SIGN_IN.email_unconfirmed,
  invalid_code: SIGN_IN.invalid_code,
  invalid_mfa_code: SIGN_IN.invalid_mfa_code,
  mfa_challenge_invalid: SIGN_IN.mfa_challenge_invalid,
  forbidden: "You are not allowed to do this.",
  not_found: "This article no longer exists.",
};

/** The alert's sentence when `count` fields need fixing. */
export function correctionMessage(count: number): string {
  return count === 1 ? "Please correct the error below." : "Please correct the errors below.";
}

/** Turn any failure of a form submission into field errors plus one message for the alert. */
export function formFailure<F extends string>(error: unknown, fields: readonly F[]): FormFailure<F> {
  if (!isApiError(error)) {
    return { message: "Something went wrong. Please try again.", fields: {} };
  }
  const byField: FieldErrors<F> = {};
  const other: string[] = [];
  for (const fieldError of error.fieldErrors) {
    const name = fields.find((field) => field === fieldError.field);
    if (name && !byField[name]) byField[name] = fieldError.message;
    else if (!name) other.push(fieldError.message);
  }
  const count = Object.keys(byField).length;
  let message = MESSAGES[error.code] ?? error.detail;
  if (count > 0) message = correctionMessage(count);
  if (other.length > 0) message = [message, ...other].join(" ");
  return { message, fields: byField };
}

/** `fields` entries that are present, as "Label: message" lines for the alert. */
export function fieldLines<F extends string>(errors: FieldErrors<F>, labels: Record<F, string>): string[] {
  return (Object.keys(labels) as F[])
    .filter((field) => errors[field])
    .map((field) => `${labels[field]}: ${errors[field] ?? ""}`);
}

const dateFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short" });

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}
