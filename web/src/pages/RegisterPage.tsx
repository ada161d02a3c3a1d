import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageHeading } from "../components/PageHeading";
import { awaitsConfirmation } from "@bastion/client";
import { useApi } from "../context";
import type { FieldErrors } from "../forms";
import { useForm } from "../hooks/useForm";
import { Link, useRouter } from "../router";

type RegisterField = "email" | "username" | "password";
const FIELDS = ["email", "username", "password"] as const;
const REQUIRED: Record<RegisterField, string> = {
  email: "Enter your email address.",
  username: "Choose a username.",
  password: "Choose a password.",
};

export function RegisterPage() {
  const api = useApi();
  const { navigate } = useRouter();
  const form = useForm({
    fields: FIELDS,
    labels: { email: "Email", username: "Username", password: "Password" },
    initial: { email: "", username: "", password: "" },
  });

  const submit = form.handleSubmit({
    validate: (values) => {
      const missing: FieldErrors<RegisterField> = {};
      for (const field of FIELDS) if (!values[field].trim()) missing[field] = REQUIRED[field];
      return missing;
    },
    action: async ({ email, username, password }) => {
      const result = await api.auth.register({ email: email.trim(), username: username.trim(), password });
      // Confirmation required (the default): nobody is signed in until the mail's link is opened.
      if (awaitsConfirmation(result)) navigate(`/check-email?email=${encodeURIComponent(email.trim())}`, { replace: true });
      else navigate("/", { replace: true });
    },
  });

  return (
    <div className="signin">
      <PageHeading>Create an account</PageHeading>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form className="form" noValidate onSubmit={(event) => void submit(event)} aria-busy={form.busy}>
        <Field id="register-email" type="email" {...form.field("email")} autoComplete="email" required />
        <Field
          id="register-username"
          {...form.field("username")}
          hint="3 to 32 letters, digits, '.', '_' or '-'. Others see it on your articles."
          autoComplete="username"
          required
        />
        <Field
          id="register-password"
          type="password"
          {...form.field("password")}
          hint="Use a long passphrase that you do not use anywhere else."
          autoComplete="new-password"
          required
        />
        <div className="actions">
          <button type="submit" className="button-primary">
            Create account
          </button>
        </div>
      </form>
      <p>
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </div>
  );
}
