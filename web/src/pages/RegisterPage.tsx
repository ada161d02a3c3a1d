import { useEffect, useRef, useState, type FormEvent } from "react";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageHeading } from "../components/PageHeading";
import { useApi } from "../context";
import { fieldLines, formFailure, type FieldErrors } from "../forms";
import { Link, useRouter } from "../router";

type RegisterField = "email" | "username" | "password";
const FIELDS = ["email", "username", "password"] as const;
const LABELS: Record<RegisterField, string> = { email: "Email", username: "Username", password: "Password" };
const REQUIRED: Record<RegisterField, string> = {
  email: "Enter your email address.",
  username: "Choose a username.",
  password: "Choose a password.",
};

export function RegisterPage() {
  const api = useApi();
  const { navigate } = useRouter();
  const [values, setValues] = useState<Record<RegisterField, string>>({ email: "", username: "", password: "" });
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors<RegisterField>>({});
  const [attempt, setAttempt] = useState(0);
  const refs = {
    email: useRef<HTMLInputElement & HTMLTextAreaElement>(null),
    username: useRef<HTMLInputElement & HTMLTextAreaElement>(null),
    password: useRef<HTMLInputElement & HTMLTextAreaElement>(null),
  };

  useEffect(() => {
    if (attempt === 0) return;
    const first = FIELDS.find((field) => errors[field]);
    if (first) refs[first].current?.focus();
  }, [attempt, errors]);

  const set = (field: RegisterField) => (value: string) => setValues((v) => ({ ...v, [field]: value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const missing: FieldErrors<RegisterField> = {};
    for (const field of FIELDS) if (!values[field].trim()) missing[field] = REQUIRED[field];
    if (Object.keys(missing).length > 0) {
      setErrors(missing);
      setMessage(Object.keys(missing).length === 1 ? "Please correct the error below." : "Please correct the errors below.");
      setAttempt((n) => n + 1);
      return;
    }
    setBusy(true);
    setMessage(null);
    setErrors({});
    try {
      await api.auth.register({ email: values.email.trim(), username: values.username.trim(), password: values.password });
      navigate("/", { replace: true });
    } catch (error) {
      const failure = formFailure(error, FIELDS);
      setMessage(failure.message);
      setErrors(failure.fields);
      setAttempt((n) => n + 1);
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeading>Create an account</PageHeading>
      {message && <FormAlert message={message} fieldMessages={fieldLines(errors, LABELS)} />}
      <form className="form" noValidate onSubmit={submit} aria-busy={busy}>
        <Field
          id="register-email"
          label={LABELS.email}
          type="email"
          value={values.email}
          onChange={set("email")}
          error={errors.email}
          autoComplete="email"
          required
          inputRef={refs.email}
        />
        <Field
          id="register-username"
          label={LABELS.username}
          value={values.username}
          onChange={set("username")}
          error={errors.username}
          hint="3 to 32 letters, digits, '.', '_' or '-'. Others see it on your articles."
          autoComplete="username"
          required
          inputRef={refs.username}
        />
        <Field
          id="register-password"
          label={LABELS.password}
          type="password"
          value={values.password}
          onChange={set("password")}
          error={errors.password}
          hint="Use a long passphrase that you do not use anywhere else."
          autoComplete="new-password"
          required
          inputRef={refs.password}
        />
        <button type="submit" className="button-primary">
          Create account
        </button>
      </form>
      <p>
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </>
  );
}
