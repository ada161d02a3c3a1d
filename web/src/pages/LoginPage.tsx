import { useState } from "react";
import { isApiError, needsMfa, type MfaRequired } from "@bastion/client";
import { EmailRequestForm } from "../components/EmailRequestForm";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { MfaStep } from "../components/MfaStep";
import { PageHeading } from "../components/PageHeading";
import { useApi, useSession } from "../context";
import { formFailure } from "../forms";
import { useForm } from "../hooks/useForm";
import { resendSent } from "../link-errors";
import { passkeyCancelled, passkeysSupported, signInWithPasskey } from "../passkeys";
import { Link, safeNext, useRouter, useSearchParams } from "../router";
import SIGN_IN from "../signin-wording.json";

const FIELDS = ["identity", "password"] as const;
export const PASSKEY_CANCELLED = "No passkey was used. Try again, or sign in with your password.";

export function LoginPage() {
  const api = useApi();
  const { notify } = useSession();
  const { navigate } = useRouter();
  const params = useSearchParams();
  const [remember, setRemember] = useState(false);
  // The right password for an address not confirmed yet (403 email_unconfirmed): the way on is
  // the mail's link, so the page offers a new one for that address.
  const [unconfirmed, setUnconfirmed] = useState<{ email: string } | null>(null);
  // The password was right and the account has a second factor: the MFA step replaces the form.
  const [mfa, setMfa] = useState<MfaRequired | null>(null);
  const [passkeyBusy, setPasskeyBusy] = useState(false);
  const form = useForm({
    fields: FIELDS,
    labels: { identity: SIGN_IN.identity, password: SIGN_IN.password },
    initial: { identity: "", password: "" },
  });

  const submit = form.handleSubmit({
    validate: ({ identity, password }) => ({
      ...(identity.trim() ? {} : { identity: "Enter your email or username." }),
      ...(password ? {} : { password: "Enter your password." }),
    }),
    action: async ({ identity, password }) => {
      setUnconfirmed(null);
      const result = await api.auth.login({ identity: identity.trim(), password, remember });
      if (needsMfa(result)) {
        form.setValue("password", "");
        setMfa(result);
        return;
      }
      navigate(safeNext(params.get("next")), { replace: true });
    },
    busyAfterSuccess: false,
    onError: (error) => {
      form.setValue("password", "");
      if (isApiError(error) && error.code === "email_unconfirmed") {
        const identity = form.values.identity.trim();
        setUnconfirmed({ email: identity.includes("@") ? identity : "" });
        return true;
      }
      return false;
    },
  });

  async function passkeySignIn() {
    if (passkeyBusy) return;
    notify(null);
    form.clear();
    setPasskeyBusy(true);
    try {
      await signInWithPasskey(api);
      navigate(safeNext(params.get("next")), { replace: true });
    } catch (error) {
      setPasskeyBusy(false);
      form.fail(passkeyCancelled(error) ? PASSKEY_CANCELLED : formFailure(error, []).message);
    }
  }

  if (mfa) {
    return (
      <div className="signin">
        <PageHeading>{SIGN_IN.heading}</PageHeading>
        <MfaStep
          methods={mfa.methods}
          onSignedIn={() => navigate(safeNext(params.get("next")), { replace: true })}
          onRestart={(message) => {
            setMfa(null);
            if (message) form.fail(message);
            else form.clear();
          }}
        />
      </div>
    );
  }

  return (
    <div className="signin">
      <PageHeading>{SIGN_IN.heading}</PageHeading>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      {unconfirmed && (
        <section aria-labelledby="unconfirmed-heading" className="unconfirmed">
          <div role="alert" className="form-alert">
            <h2 id="unconfirmed-heading">Confirm your email address</h2>
            <p>{SIGN_IN.email_unconfirmed} No mail, or an old one? Ask for a new link below.</p>
          </div>
          <EmailRequestForm
            id="resend"
            initialEmail={unconfirmed.email}
            submit="Send a new link"
            send={(email) => api.auth.resendConfirmation(email)}
            sent={resendSent}
            autoFocus
          />
        </section>
      )}
      <form
        className="form"
        noValidate
        onSubmit={(event) => {
          notify(null); // the page's notice (expired, signed out) has been read: one alert at a time
          void submit(event);
        }}
        aria-busy={form.busy}
      >
        <Field id="login-identity" {...form.field("identity")} autoComplete="username" required />
        <Field id="login-password" type="password" {...form.field("password")} autoComplete="current-password" required />
        <div className="checkbox">
          <input
            id="login-remember"
            type="checkbox"
            checked={remember}
            onChange={(event) => setRemember(event.target.checked)}
          />
          <label htmlFor="login-remember">{SIGN_IN.remember}</label>
        </div>
        <div className="actions">
          <button type="submit" className="button-primary">
            {SIGN_IN.submit}
          </button>
        </div>
      </form>
      {passkeysSupported() && (
        <div className="actions passkey-sign-in">
          <p>Or, without a password:</p>
          <button type="button" onClick={() => void passkeySignIn()} aria-busy={passkeyBusy}>
            Use a passkey
          </button>
        </div>
      )}
      <p>
        <Link to="/forgot-password">{SIGN_IN.forgot_password}</Link>
      </p>
      <p>
        <Link to="/login/code">{SIGN_IN.code_link}</Link>
      </p>
      <p>
        {SIGN_IN.new_here} <Link to="/register">{SIGN_IN.register_link}</Link>
      </p>
    </div>
  );
}
