import { useEffect, useState } from "react";
import { isApiError, needsMfa, type MfaRequired } from "@bastion/client";
import { DevMailLink } from "../components/DevMailLink";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { MfaStep } from "../components/MfaStep";
import { PageHeading } from "../components/PageHeading";
import { useApi, useSession } from "../context";
import { useForm } from "../hooks/useForm";
import { Link, safeNext, useRouter, useSearchParams } from "../router";
import SIGN_IN from "../signin-wording.json";

const FIELDS = ["identity", "code"] as const;
export const WRONG_CODE = SIGN_IN.invalid_code;

/**
 * Sign in without a password: ask for a code by email or username, then type the 6 digits the
 * mail brought. The first step answers the same whether or not the account exists.
 */
export function CodeSignInPage() {
  const api = useApi();
  const { notify } = useSession();
  const { navigate } = useRouter();
  const params = useSearchParams();
  const [sentTo, setSentTo] = useState<string | null>(null);
  // The code was right and the account has a second factor: the MFA step comes next.
  const [mfa, setMfa] = useState<MfaRequired | null>(null);
  const form = useForm({
    fields: FIELDS,
    labels: { identity: SIGN_IN.identity, code: "Code" },
    initial: { identity: "", code: "" },
  });
  const codeRef = form.field("code").inputRef;

  // The second step's field is where the work is: go there as soon as it appears.
  useEffect(() => {
    if (sentTo !== null) codeRef.current?.focus();
  }, [sentTo, codeRef]);

  const request = form.handleSubmit({
    validate: ({ identity }) => (identity.trim() ? {} : { identity: "Enter your email or username." }),
    action: async ({ identity }) => {
      await api.auth.requestCode(identity.trim());
      form.setValue("code", "");
      setSentTo(identity.trim());
    },
    busyAfterSuccess: false,
  });

  const verify = form.handleSubmit({
    validate: ({ code }) => (/^[0-9]{6}$/.test(code.replace(/\s+/g, "")) ? {} : { code: "Enter the 6 digits from the email." }),
    action: async ({ code }) => {
      const result = await api.auth.verifyCode(sentTo ?? "", code.replace(/\s+/g, ""));
      if (needsMfa(result)) {
        form.setValue("code", "");
        setMfa(result);
        return;
      }
      navigate(safeNext(params.get("next")), { replace: true });
    },
    busyAfterSuccess: false,
    onError: (error) => {
      form.setValue("code", "");
      if (isApiError(error) && (error.code === "invalid_credentials" || error.code === "invalid_code")) {
        form.fail(WRONG_CODE, { code: "Wrong or expired code." });
        return true;
      }
      return false;
    },
  });

  if (mfa) {
    return (
      <div className="signin">
        <PageHeading>Sign in with a code</PageHeading>
        <MfaStep
          methods={mfa.methods}
          onSignedIn={() => navigate(safeNext(params.get("next")), { replace: true })}
          onRestart={(message) => {
            // The mailed code is used up: the way back is a new one.
            setMfa(null);
            setSentTo(null);
            if (message) form.fail(message);
            else form.clear();
          }}
        />
      </div>
    );
  }

  return (
    <div className="signin">
      <PageHeading>Sign in with a code</PageHeading>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      {sentTo === null ? (
        <>
          <p>We will email you a 6-digit code to sign in with. It is valid for 10 minutes.</p>
          <form
            className="form"
            noValidate
            onSubmit={(event) => {
              notify(null);
              void request(event);
            }}
            aria-busy={form.busy}
          >
            <Field id="code-identity" {...form.field("identity")} autoComplete="username" required />
            <div className="actions">
              <button type="submit" className="button-primary">
                {SIGN_IN.code_request}
              </button>
            </div>
          </form>
        </>
      ) : (
        <>
          <p className="notice notice-status" role="status">
            If {sentTo} has an account, we sent a code to its email address. It is valid for 10 minutes.
          </p>
          <DevMailLink />
          <form className="form" noValidate onSubmit={(event) => void verify(event)} aria-busy={form.busy}>
            <Field
              id="code-code"
              {...form.field("code")}
              hint="The 6 digits from the email."
              autoComplete="one-time-code"
              inputMode="numeric"
              required
            />
            <div className="actions">
              <button type="submit" className="button-primary">
                {SIGN_IN.submit}
              </button>
              <button
                type="button"
                onClick={() => {
                  form.clear();
                  setSentTo(null);
                }}
              >
                Ask for a new code
              </button>
            </div>
          </form>
        </>
      )}
      <p>
        <Link to="/login">Sign in with your password</Link>
      </p>
    </div>
  );
}
