import { useState } from "react";
import { isApiError } from "@bastion/client";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageHeading } from "../components/PageHeading";
import { useApi, useSession } from "../context";
import { captureFragmentToken, fragmentToken, forgetFragmentToken } from "../fragment";
import { useForm } from "../hooks/useForm";
import { linkError } from "../link-errors";
import { Link, useRouter } from "../router";

const FIELDS = ["password"] as const;
export const PASSWORD_RESET = "Your password has been changed. Sign in with your new password.";

/** The reason for the reset-error view, from the server's refusal of the token. */
function tokenFailure(code: string): string {
  if (code.includes("expired")) return "expired";
  if (code.includes("used")) return "used";
  return "invalid";
}

/**
 * `/reset-password#token=...`: the mail's link, checked by the server, lands here with the token
 * in the fragment. main.tsx has already taken it out of the address bar; this page holds it in
 * memory until the new password is set.
 */
export function ResetPasswordPage() {
  const api = useApi();
  const { user, notify } = useSession();
  const { navigate } = useRouter();
  const [token] = useState(() => {
    captureFragmentToken(); // an in-app navigation to a fragment link (start-up took the first)
    return fragmentToken();
  });
  const form = useForm({ fields: FIELDS, labels: { password: "New password" }, initial: { password: "" } });

  const submit = form.handleSubmit({
    validate: ({ password }) => (password ? {} : { password: "Choose a new password." }),
    action: async ({ password }) => {
      await api.auth.resetPassword(token ?? "", password);
      forgetFragmentToken();
      // A reset ends every session of the account: this browser's too, if it was signed in to it.
      if (user) await api.start().catch(() => null);
      notify({ kind: "status", text: PASSWORD_RESET, path: "/login" });
      navigate("/login", { replace: true });
    },
    onError: (error) => {
      // A refused password is the person's to fix here; a refused token needs a new mail.
      if (!isApiError(error) || error.status === 0 || error.status === 429 || error.status >= 500) return false;
      if (error.fieldErrors.some((fieldError) => fieldError.field === "password")) return false;
      forgetFragmentToken();
      navigate(`/reset-password-error?code=${encodeURIComponent(tokenFailure(error.code))}`, { replace: true });
      return true;
    },
  });

  if (!token) {
    const error = linkError("reset", "invalid");
    return (
      <div className="signin">
        <PageHeading>{error.heading}</PageHeading>
        <div role="alert" className="form-alert">
          <p>This page needs the link from the password reset email, and this address has no token in it.</p>
        </div>
        <p>
          <Link to="/forgot-password">Ask for a new reset link</Link>
        </p>
      </div>
    );
  }

  return (
    <div className="signin">
      <PageHeading>Choose a new password</PageHeading>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form className="form" noValidate onSubmit={(event) => void submit(event)} aria-busy={form.busy}>
        <Field
          id="reset-password"
          type="password"
          {...form.field("password")}
          hint="Use a long passphrase that you do not use anywhere else. Every device signed in to your account will be signed out."
          autoComplete="new-password"
          required
        />
        <div className="actions">
          <button type="submit" className="button-primary">
            Set new password
          </button>
        </div>
      </form>
    </div>
  );
}
