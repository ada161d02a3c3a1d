import { useState } from "react";
import { isApiError } from "@bastion/client";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageHeading } from "../components/PageHeading";
import { useApi, useSession } from "../context";
import { useForm } from "../hooks/useForm";
import { Link } from "../router";
import { AccountSessions } from "./AccountSessions";

const WRONG_PASSWORD = "This is not your current password.";

/** The signed-in user's own page: change password, change email, and where they are signed in. */
export default function AccountPage() {
  const { user } = useSession();
  // Bumped after a password change, which ends every other session: the list reloads.
  const [sessionsVersion, setSessionsVersion] = useState(0);
  if (!user) return null; // a private route: the app's guard has sent the visitor to sign in
  return (
    <>
      <PageHeading>Your account</PageHeading>
      <p>
        Username: <strong>{user.username}</strong>. Email address: <strong>{user.email}</strong>.
      </p>
      <p>
        <Link to="/account/security">Security: two-step verification, passkeys and security events</Link>
      </p>
      <ChangePassword onChanged={() => setSessionsVersion((n) => n + 1)} />
      <ChangeEmail current={user.email} />
      <AccountSessions version={sessionsVersion} />
    </>
  );
}

const PASSWORD_FIELDS = ["current_password", "new_password"] as const;

function ChangePassword({ onChanged }: { onChanged: () => void }) {
  const api = useApi();
  const [done, setDone] = useState(false);
  const form = useForm({
    fields: PASSWORD_FIELDS,
    labels: { current_password: "Current password", new_password: "New password" },
    initial: { current_password: "", new_password: "" },
  });
  const submit = form.handleSubmit({
    validate: (values) => ({
      ...(values.current_password ? {} : { current_password: "Enter your current password." }),
      ...(values.new_password ? {} : { new_password: "Choose a new password." }),
    }),
    action: async ({ current_password, new_password }) => {
      setDone(false);
      await api.auth.changePassword(current_password, new_password);
      form.setValues({ current_password: "", new_password: "" });
      setDone(true);
      onChanged();
    },
    onError: (error) => {
      form.setValue("current_password", "");
      if (isApiError(error) && error.code === "invalid_credentials") {
        form.fail(null, { current_password: WRONG_PASSWORD });
        return true;
      }
      return false;
    },
    busyAfterSuccess: false,
  });
  return (
    <section aria-labelledby="password-heading" className="account-section">
      <h2 id="password-heading">Change password</h2>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form className="form" noValidate onSubmit={(event) => void submit(event)} aria-busy={form.busy}>
        <Field
          id="password-current"
          type="password"
          {...form.field("current_password")}
          autoComplete="current-password"
          required
        />
        <Field
          id="password-new"
          type="password"
          {...form.field("new_password")}
          hint="Use a long passphrase that you do not use anywhere else. Your other devices will be signed out."
          autoComplete="new-password"
          required
        />
        <div className="actions">
          <button type="submit" className="button-primary">
            Change password
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {done && (
          <p className="notice notice-status">Your password has been changed. Your other devices have been signed out.</p>
        )}
      </div>
    </section>
  );
}

const EMAIL_FIELDS = ["email", "password"] as const;

function ChangeEmail({ current }: { current: string }) {
  const api = useApi();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useForm({
    fields: EMAIL_FIELDS,
    labels: { email: "New email address", password: "Your password" },
    initial: { email: "", password: "" },
  });
  const submit = form.handleSubmit({
    validate: (values) => ({
      ...(values.email.trim() ? {} : { email: "Enter the new email address." }),
      ...(values.password ? {} : { password: "Enter your password." }),
    }),
    action: async ({ email, password }) => {
      setSentTo(null);
      await api.auth.changeEmail(email.trim(), password);
      form.setValues({ email: "", password: "" });
      setSentTo(email.trim());
    },
    onError: (error) => {
      form.setValue("password", "");
      if (isApiError(error) && error.code === "invalid_credentials") {
        form.fail(null, { password: WRONG_PASSWORD });
        return true;
      }
      return false;
    },
    busyAfterSuccess: false,
  });
  return (
    <section aria-labelledby="email-heading" className="account-section">
      <h2 id="email-heading">Change email address</h2>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form className="form" noValidate onSubmit={(event) => void submit(event)} aria-busy={form.busy}>
        <Field id="email-new" type="email" {...form.field("email")} autoComplete="email" required />
        <Field id="email-password" type="password" {...form.field("password")} autoComplete="current-password" required />
        <div className="actions">
          <button type="submit" className="button-primary">
            Change email address
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {sentTo !== null && (
          <p className="notice notice-status">
            We sent a link to {sentTo}. Your address changes when you open it; until then, keep using {current}.
          </p>
        )}
      </div>
    </section>
  );
}
