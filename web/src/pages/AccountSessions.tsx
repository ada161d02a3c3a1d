import { useEffect, useRef, useState } from "react";
import { isApiError, type DeviceSession } from "@bastion/client";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { ResourceStatus } from "../components/ResourceStatus";
import { useApi } from "../context";
import { formatDate, formFailure } from "../forms";
import { useForm } from "../hooks/useForm";
import { useResource } from "../hooks/useResource";

/** "Firefox on Linux", "An app (token)": enough to recognise a device, not a parser. */
export function deviceName(session: Pick<DeviceSession, "kind" | "user_agent">): string {
  if (session.kind === "token") return "An app";
  const ua = session.user_agent;
  const browser = [
    ["Edg/", "Edge"],
    ["Firefox/", "Firefox"],
    ["Chrome/", "Chrome"],
    ["Chromium/", "Chromium"],
    ["Safari/", "Safari"],
  ].find(([mark]) => ua.includes(mark!))?.[1];
  const system = [
    ["Android", "Android"],
    ["iPhone", "iOS"],
    ["iPad", "iPadOS"],
    ["Windows", "Windows"],
    ["Mac OS X", "macOS"],
    ["Linux", "Linux"],
  ].find(([mark]) => ua.includes(mark!))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? "A browser";
}

type Pending = { kind: "one"; session: DeviceSession } | { kind: "others" };

/** Where the user is signed in, and signing devices out (which may ask for the password again). */
export function AccountSessions({ version }: { version: number }) {
  const api = useApi();
  const { state, reload } = useResource((signal) => api.auth.sessions(signal), [api, version]);
  const [pending, setPending] = useState<Pending | null>(null);
  const [reauth, setReauth] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run(action: Pending) {
    setStatus(null);
    setError(null);
    try {
      if (action.kind === "one") {
        await api.auth.endSession(action.session.id);
        setStatus(`Signed out: ${deviceName(action.session)} (${action.session.ip}).`);
      } else {
        const { ended } = await api.auth.endOtherSessions();
        setStatus(ended === 1 ? "Signed out 1 other session." : `Signed out ${ended} other sessions.`);
      }
      setPending(null);
      setReauth(false);
      reload();
    } catch (failure) {
      if (isApiError(failure) && failure.code === "reauth_required") {
        setPending(action); // ask for the password, then do it
        setReauth(true);
        return;
      }
      setError(formFailure(failure, []).message);
    }
  }

  const sessions = state.kind === "ready" ? state.value.sessions : [];
  const others = sessions.filter((session) => !session.current);

  return (
    <section aria-labelledby="sessions-heading" className="account-section">
      <h2 id="sessions-heading">Where you are signed in</h2>
      <ResourceStatus state={state} loading="Loading sessions…" retry={reload} />
      {error && (
        <div role="alert" className="form-alert">
          <p>{error}</p>
        </div>
      )}
      {reauth && pending && (
        <Reauthenticate
          onDone={() => void run(pending)}
          onCancel={() => {
            setReauth(false);
            setPending(null);
          }}
        />
      )}
      {state.kind === "ready" && (
        <table className="sessions">
          <caption className="visually-hidden">Your sessions</caption>
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">IP address</th>
              <th scope="col">Last active</th>
              <th scope="col">
                <span className="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((session) => (
              <tr key={session.id}>
                <th scope="row">
                  {deviceName(session)}
                  {session.current && <span className="tag"> This device</span>}
                </th>
                <td>{session.ip}</td>
                <td>
                  <time dateTime={session.last_seen_at}>{formatDate(session.last_seen_at)}</time>
                </td>
                <td>
                  {!session.current && (
                    <button
                      type="button"
                      aria-label={`End session: ${deviceName(session)}, ${session.ip}`}
                      onClick={() => void run({ kind: "one", session })}
                    >
                      End session
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {others.length > 0 && (
        <div className="actions">
          <button type="button" className="button-danger" onClick={() => void run({ kind: "others" })}>
            End all other sessions
          </button>
        </div>
      )}
      <div aria-live="polite">{status && <p className="notice notice-status">{status}</p>}</div>
    </section>
  );
}

const REAUTH_FIELDS = ["password", "code"] as const;

/**
 * Ask for the password again (a sensitive action answered `401 reauth_required`), then `onDone`.
 * A user with a second factor is asked for a code too once the server says so (`mfa_required`):
 * a password alone must not unlock turning the second factor off or adding a passkey.
 */
export function Reauthenticate({
  onDone,
  onCancel,
  reason = "To sign other devices out, confirm your password first.",
}: {
  onDone: () => void;
  onCancel: () => void;
  reason?: string;
}) {
  const api = useApi();
  const form = useForm({
    fields: REAUTH_FIELDS,
    labels: { password: "Password", code: "Authenticator or recovery code" },
    initial: { password: "", code: "" },
  });
  const [needsCode, setNeedsCode] = useState(false);
  const passwordRef = form.field("password").inputRef;
  const focused = useRef(false);
  useEffect(() => {
    if (!focused.current) {
      focused.current = true;
      passwordRef.current?.focus();
    }
  }, [passwordRef]);
  const submit = form.handleSubmit({
    validate: ({ password, code }) => {
      if (!password) return { password: "Enter your password." };
      if (needsCode && !code) return { code: "Enter the code from your authenticator app." };
      return {};
    },
    action: async ({ password, code }) => {
      await api.auth.reauthenticate(password, needsCode ? code : undefined);
      onDone();
    },
    onError: (error) => {
      if (isApiError(error) && error.code === "mfa_required") {
        setNeedsCode(true);
        form.fail("Your account has two-step sign-in: enter a code from your authenticator app too.");
        return true;
      }
      if (isApiError(error) && error.code === "invalid_mfa_code") {
        form.setValue("code", "");
        form.fail(null, { code: "This code is not valid. Try the current one, or a recovery code." });
        return true;
      }
      form.setValue("password", "");
      if (isApiError(error) && error.code === "invalid_credentials") {
        form.fail(null, { password: "This is not your password." });
        return true;
      }
      return false;
    },
  });
  return (
    <div className="reauth">
      <p>{reason}</p>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form className="form" noValidate onSubmit={(event) => void submit(event)} aria-busy={form.busy}>
        <Field id="reauth-password" type="password" {...form.field("password")} autoComplete="current-password" required />
        {needsCode && (
          <Field id="reauth-code" {...form.field("code")} autoComplete="one-time-code" inputMode="numeric" required />
        )}
        <div className="actions">
          <button type="submit" className="button-primary">
            Confirm password
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
