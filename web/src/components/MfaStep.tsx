import { useEffect, useState } from "react";
import { isApiError, type MfaMethod } from "@bastion/client";
import { useApi } from "../context";
import { formFailure } from "../forms";
import { useForm } from "../hooks/useForm";
import SIGN_IN from "../signin-wording.json";
import { Field } from "./Field";
import { FormAlert } from "./FormAlert";

const FIELDS = ["code"] as const;

// Worded as the server-rendered /login/mfa page (signin-wording.json, held to it by a test).
export const WRONG_MFA_CODE = SIGN_IN.invalid_mfa_code;
/** The pending sign-in is gone (too many wrong codes, too slow, another browser): start again. */
export const MFA_RESTART = SIGN_IN.mfa_challenge_invalid;

type Kind = "totp" | "recovery_code";

/**
 * The second step of a sign-in for a user with a second factor: a code from the authenticator
 * app, or one of the recovery codes. A wrong code stays here; a sign-in the server no longer
 * holds (too many tries, expired) goes back to the first step with `onRestart`'s message.
 */
export function MfaStep({
  methods,
  onSignedIn,
  onRestart,
}: {
  methods: readonly MfaMethod[];
  onSignedIn: () => void;
  onRestart: (message: string | null) => void;
}) {
  const api = useApi();
  const hasTotp = methods.includes("totp");
  const hasRecovery = methods.includes("recovery_code");
  const [kind, setKind] = useState<Kind>(hasTotp || !hasRecovery ? "totp" : "recovery_code");
  const form = useForm({
    fields: FIELDS,
    labels: { code: kind === "totp" ? "Authentication code" : "Recovery code" },
    initial: { code: "" },
  });
  const codeRef = form.field("code").inputRef;

  // The step replaces the password form: its one field is where the work is.
  useEffect(() => {
    codeRef.current?.focus();
  }, [kind, codeRef]);

  const submit = form.handleSubmit({
    validate: ({ code }) => {
      const compact = code.replace(/\s+/g, "");
      if (kind === "totp") return /^[0-9]{6}$/.test(compact) ? {} : { code: "Enter the 6 digits from your app." };
      return compact ? {} : { code: "Enter one of your recovery codes." };
    },
    action: async ({ code }) => {
      await api.mfa.verify(kind === "totp" ? code.replace(/\s+/g, "") : code.trim());
      onSignedIn();
    },
    onError: (error) => {
      form.setValue("code", "");
      if (!isApiError(error) || error.status === 0 || error.status === 422) return false;
      if (error.code === "invalid_mfa_code") {
        form.fail(WRONG_MFA_CODE, { code: kind === "totp" ? "Wrong code." : "Wrong or used recovery code." });
        return true;
      }
      if (error.code === "rate_limited") return false; // the generic sentence: wait and try again
      // mfa_challenge_invalid: expired, used up or out of tries; anything else (a deactivated
      // account) also ends this attempt, in its own words.
      onRestart(error.code === "mfa_challenge_invalid" ? MFA_RESTART : formFailure(error, []).message);
      return true;
    },
    busyAfterSuccess: false,
  });

  return (
    <section aria-labelledby="mfa-heading" className="mfa-step">
      <h2 id="mfa-heading">{SIGN_IN.mfa_heading}</h2>
      <p>
        {kind === "totp"
          ? "Your password was right. Now enter the code your authenticator app shows for this site."
          : "Enter one of the recovery codes you saved. Each one works once."}
      </p>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form className="form" noValidate onSubmit={(event) => void submit(event)} aria-busy={form.busy}>
        <Field
          id="mfa-code"
          {...form.field("code")}
          hint={kind === "totp" ? "6 digits; a new one every 30 seconds." : "For example abcd-efgh."}
          autoComplete={kind === "totp" ? "one-time-code" : "off"}
          inputMode={kind === "totp" ? "numeric" : undefined}
          required
        />
        <div className="actions">
          <button type="submit" className="button-primary">
            Verify
          </button>
          {hasTotp && hasRecovery && (
            <button
              type="button"
              onClick={() => {
                form.clear();
                form.setValue("code", "");
                setKind(kind === "totp" ? "recovery_code" : "totp");
              }}
            >
              {kind === "totp" ? "Use a recovery code" : "Use your authenticator app"}
            </button>
          )}
          <button type="button" onClick={() => onRestart(null)}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
