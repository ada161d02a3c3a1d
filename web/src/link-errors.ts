// What to tell someone whose mail link did not work. The server redirects to the SPA's error
// views with the reason as `?code=` (expired, invalid, already_confirmed, ...); each view words
// each reason, and anything it does not know gets the view's general sentence.

export type LinkKind = "confirm" | "reset" | "email-change" | "login";

export interface LinkError {
  heading: string;
  text: string;
  /** Whether asking for a new mail is the way out (the page then offers it). */
  retry: boolean;
}

const EXPIRED = "This link has expired.";
const INVALID = "This link is not valid: it may have been cut off or mistyped. Open it again from the email, copying all of it.";
const USED = "This link has already been used.";

const BY_KIND: Record<LinkKind, { heading: string; general: string; codes: Record<string, Partial<LinkError>> }> = {
  confirm: {
    heading: "Your email address could not be confirmed",
    general: "This confirmation link did not work.",
    codes: {
      expired: { text: `${EXPIRED} Confirmation links are valid for a few days: ask for a new one below.` },
      invalid: { text: `${INVALID} Or ask for a new one below.` },
      already_confirmed: {
        heading: "Your email address is already confirmed",
        text: "There is nothing more to do: you can sign in.",
        retry: false,
      },
    },
  },
  reset: {
    heading: "Your password could not be reset",
    general: "This password reset link did not work.",
    codes: {
      expired: { text: `${EXPIRED} Reset links are valid for 30 minutes: ask for a new one.` },
      invalid: { text: `${INVALID} Or ask for a new one.` },
      used: { text: `${USED} Each reset link works once: ask for a new one if you still need it.` },
    },
  },
  "email-change": {
    heading: "Your email address was not changed",
    general: "This email change link did not work.",
    codes: {
      expired: { text: `${EXPIRED} Ask for the change again from your account page.` },
      invalid: { text: `${INVALID} Or ask for the change again from your account page.` },
      used: { text: `${USED} Your account page shows the address you have now.` },
      email_taken: {
        text: "Another account uses this address now, so it cannot become yours.",
      },
    },
  },
  login: {
    heading: "You could not be signed in",
    general: "This sign-in did not work.",
    codes: {
      expired: { text: `${EXPIRED} Sign in again.` },
      invalid: { text: `${INVALID} Or sign in again.` },
      email_unconfirmed: { text: "Confirm your email address first: open the link we sent you when you registered." },
      account_disabled: { text: "This account has been deactivated.", retry: false },
    },
  },
};

/** The heading and sentence for a failed link of `kind`, for the server's reason `code`. */
export function linkError(kind: LinkKind, code: string | null): LinkError {
  const table = BY_KIND[kind];
  const known = code && Object.hasOwn(table.codes, code) ? table.codes[code] : undefined;
  return {
    heading: known?.heading ?? table.heading,
    text: known?.text ?? `${table.general} Ask for a new one.`,
    retry: known?.retry ?? true,
  };
}

/** What a resend of the confirmation answers: the same whether or not the address has an account waiting. */
export function resendSent(address: string): string {
  return `If ${address} is waiting to be confirmed, a new link is on its way.`;
}
