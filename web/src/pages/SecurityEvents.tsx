import { useCallback, useEffect, useRef, useState } from "react";
import type { SecurityEvent } from "@bastion/client";
import { useApi } from "../context";
import { formatDate, formFailure } from "../forms";
import { deviceName } from "./AccountSessions";

const PER_PAGE = 20;

/**
 * How each kind of event reads in the log (the server's audit event names); a kind the SPA does
 * not know yet shows its name in words.
 */
export const EVENT_WORDING: Record<string, string> = {
  user_registered: "Account created",
  email_confirmed: "Email address confirmed",
  login_succeeded: "Signed in",
  login_failed: "Failed sign-in attempt",
  logout: "Signed out",
  token_revoked: "An app signed out",
  session_ended: "A session was ended",
  other_sessions_ended: "All other sessions were ended",
  reauth_succeeded: "Password confirmed for a sensitive change",
  reauth_failed: "Wrong password when confirming a sensitive change",
  password_changed: "Password changed",
  password_reset: "Password reset by email",
  email_change_requested: "Email address change requested",
  email_changed: "Email address changed",
  refresh_token_reused: "A stolen or replayed sign-in token was refused; that app was signed out",
  mfa_enabled: "Two-step verification turned on",
  mfa_disabled: "Two-step verification turned off",
  mfa_failed: "Wrong two-step verification code",
  recovery_code_used: "Recovery code used",
  recovery_codes_regenerated: "New recovery codes made",
  passkey_added: "Passkey added",
  passkey_removed: "Passkey removed",
  passkey_clone_detected: "A copied passkey was refused",
  rate_limited: "Too many attempts: slowed down",
};

const METHODS: Record<string, string> = { password: "a password", code: "an emailed code", passkey: "a passkey" };

/** "Signed in with a passkey": the sign-in method and the second factor, when the event names them. */
function describeEvent(event: SecurityEvent): string {
  const text = eventWording(event.kind);
  if (event.kind !== "login_succeeded") return text;
  const method = typeof event.details.method === "string" ? METHODS[event.details.method] : undefined;
  const secondFactor = event.details.mfa === true;
  if (!method) return secondFactor ? `${text} with two-step verification` : text;
  return secondFactor ? `${text} with ${method} and two-step verification` : `${text} with ${method}`;
}

export function eventWording(kind: string): string {
  return EVENT_WORDING[kind] ?? kind.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

type State =
  | { kind: "loading" }
  | { kind: "error"; message: string; items: SecurityEvent[]; cursor: string | null }
  | { kind: "ready"; items: SecurityEvent[]; cursor: string | null; more: boolean };

/** The user's own security log, newest first, 20 at a time with "Load more". */
export function SecurityEvents({ version }: { version: number }) {
  const api = useApi();
  const [state, setState] = useState<State>({ kind: "loading" });
  const [busy, setBusy] = useState(false);
  const current = useRef<AbortController | null>(null);

  const load = useCallback(
    async (cursor: string | null, before: SecurityEvent[]) => {
      current.current?.abort();
      const controller = new AbortController();
      current.current = controller;
      setBusy(true);
      try {
        const page = await api.auth.securityEvents({ cursor, perPage: PER_PAGE }, controller.signal);
        if (controller.signal.aborted) return;
        setState({ kind: "ready", items: [...before, ...page.items], cursor: page.next_cursor, more: page.next_cursor !== null });
      } catch (error) {
        if (controller.signal.aborted) return;
        setState({ kind: "error", message: formFailure(error, []).message, items: before, cursor });
      } finally {
        if (!controller.signal.aborted) setBusy(false);
      }
    },
    [api],
  );

  useEffect(() => {
    setState({ kind: "loading" });
    void load(null, []);
    return () => current.current?.abort();
  }, [load, version]);

  const items = state.kind === "loading" ? [] : state.items;
  return (
    <section aria-labelledby="events-heading" className="account-section">
      <h2 id="events-heading">Security events</h2>
      <p>What happened on your account recently. Something you do not recognise? Change your password.</p>
      {state.kind === "loading" && (
        <p className="loading" aria-live="polite">
          Loading security events…
        </p>
      )}
      {state.kind === "ready" && items.length === 0 && <p>No security events yet.</p>}
      {items.length > 0 && (
        <ol className="security-events" aria-label="Your security events">
          {items.map((event) => (
            <li key={event.id}>
              <strong>{describeEvent(event)}</strong>{" "}
              <time dateTime={event.occurred_at}>{formatDate(event.occurred_at)}</time>
              <br />
              <span className="event-where">
                {[event.user_agent ? deviceName({ kind: "browser", user_agent: event.user_agent }) : null, event.ip]
                  .filter(Boolean)
                  .join(", ")}
              </span>
            </li>
          ))}
        </ol>
      )}
      {state.kind === "error" && (
        <div role="alert" className="form-alert">
          <p>{state.message}</p>
          <button type="button" onClick={() => void load(state.cursor, state.items)}>
            Try again
          </button>
        </div>
      )}
      {state.kind === "ready" && state.more && (
        <div className="actions">
          <button type="button" onClick={() => void load(state.cursor, state.items)} aria-busy={busy} disabled={busy}>
            Load more
          </button>
        </div>
      )}
    </section>
  );
}
