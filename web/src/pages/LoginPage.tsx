import { useEffect, useRef, useState, type FormEvent } from "react";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageHeading } from "../components/PageHeading";
import { useApi, useSession } from "../context";
import { fieldLines, formFailure, type FieldErrors } from "../forms";
import { Link, safeNext, useRouter, useSearchParams } from "../router";

type LoginField = "identity" | "password";
const LABELS: Record<LoginField, string> = { identity: "Email or username", password: "Password" };

export function LoginPage() {
  const api = useApi();
  const { notify } = useSession();
  const { navigate } = useRouter();
  const params = useSearchParams();
  const [identity, setIdentity] = useState("");
  const [password, setPassword] = useState("");
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors<LoginField>>({});
  const [attempt, setAttempt] = useState(0);
  const identityRef = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const passwordRef = useRef<HTMLInputElement & HTMLTextAreaElement>(null);

  useEffect(() => {
    if (attempt === 0) return;
    if (errors.identity) identityRef.current?.focus();
    else if (errors.password) passwordRef.current?.focus();
  }, [attempt, errors]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    notify(null); // the page's notice (expired, signed out) has been read: one alert at a time
    const missing: FieldErrors<LoginField> = {};
    if (!identity.trim()) missing.identity = "Enter your email or username.";
    if (!password) missing.password = "Enter your password.";
    if (missing.identity || missing.password) {
      setErrors(missing);
      setMessage(Object.keys(missing).length === 1 ? "Please correct the error below." : "Please correct the errors below.");
      setAttempt((n) => n + 1);
      return;
    }
    setBusy(true);
    setMessage(null);
    setErrors({});
    try {
      await api.auth.login({ identity: identity.trim(), password, remember });
      navigate(safeNext(params.get("next")), { replace: true });
    } catch (error) {
      const failure = formFailure(error, ["identity", "password"] as const);
      setMessage(
        failure.fields.identity || failure.fields.password
          ? failure.message
          : (error as { code?: string }).code === "invalid_credentials"
            ? "The email, username or password is wrong."
            : failure.message,
      );
      setErrors(failure.fields);
      setPassword("");
      setAttempt((n) => n + 1);
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeading>Sign in</PageHeading>
      {message && <FormAlert message={message} fieldMessages={fieldLines(errors, LABELS)} />}
      <form className="form" noValidate onSubmit={submit} aria-busy={busy}>
        <Field
          id="login-identity"
          label={LABELS.identity}
          value={identity}
          onChange={setIdentity}
          error={errors.identity}
          autoComplete="username"
          required
          inputRef={identityRef}
        />
        <Field
          id="login-password"
          label={LABELS.password}
          type="password"
          value={password}
          onChange={setPassword}
          error={errors.password}
          autoComplete="current-password"
          required
          inputRef={passwordRef}
        />
        <div className="checkbox">
          <input
            id="login-remember"
            type="checkbox"
            checked={remember}
            onChange={(event) => setRemember(event.target.checked)}
          />
          <label htmlFor="login-remember">Keep me signed in</label>
        </div>
        <button type="submit" className="button-primary">
          Sign in
        </button>
      </form>
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
    </>
  );
}
