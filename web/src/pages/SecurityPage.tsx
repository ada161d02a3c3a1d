import { useEffect, useRef, useState } from "react";
import { isApiError, type TotpSetup } from "@bastion/client";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageHeading } from "../components/PageHeading";
import { ResourceStatus } from "../components/ResourceStatus";
import { useApi, useSession } from "../context";
import { formatDate, formFailure } from "../forms";
import { useForm } from "../hooks/useForm";
import { useResource } from "../hooks/useResource";
import { addPasskey, passkeyCancelled, passkeysSupported } from "../passkeys";
import { Link } from "../router";
import { Reauthenticate } from "./AccountSessions";
import { SecurityEvents } from "./SecurityEvents";

/**
 * The signed-in user's security settings: the authenticator app (TOTP) and its recovery codes,
 * passkeys, and the log of security events on the account.
 */
export default function SecurityPage() {
  const { user } = useSession();
  // Bumped after a change the log records (MFA or a passkey added or removed): it reloads.
  const [eventsVersion, setEventsVersion] = useState(0);
  const changed = () => setEventsVersion((n) => n + 1);
  if (!user) return null; // a private route: the app's guard has sent the visitor to sign in
  return (
    <>
      <PageHeading>Account security</PageHeading>
      <p>
        <Link to="/account">Back to your account</Link>
      </p>
      <TwoStep onChanged={changed} />
      <Passkeys onChanged={changed} />
      <SecurityEvents version={eventsVersion} />
    </>
  );
}

/** An action that may answer `401 reauth_required`: ask for the password, then run it again. */
function useReauthGate() {
  const [retry, setRetry] = useState<(() => void) | null>(null);
  return {
    /** True when `failure` asked for the password; `again` runs once it is confirmed. */
    caught(failure: unknown, again: () => void): boolean {
      if (isApiError(failure) && failure.code === "reauth_required") {
        setRetry(() => again);
        return true;
      }
      return false;
    },
    prompt(reason: string) {
      if (!retry) return null;
      return (
        <Reauthenticate
          reason={reason}
          onDone={() => {
            setRetry(null);
            retry();
          }}
          onCancel={() => setRetry(null)}
        />
      );
    },
  };
}

function Alert({ text }: { text: string | null }) {
  if (!text) return null;
  return (
    <div role="alert" className="form-alert">
      <p>{text}</p>
    </div>
  );
}

// ---- the authenticator app (TOTP) and recovery codes --------------------------------------------

function TwoStep({ onChanged }: { onChanged: () => void }) {
  const api = useApi();
  const { state, reload } = useResource((signal) => api.mfa.status(signal), [api]);
  const gate = useReauthGate();
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [confirmOff, setConfirmOff] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const enabled = state.kind === "ready" && state.value.methods.includes("totp");

  async function act(call: () => Promise<void>) {
    setStatus(null);
    setError(null);
    try {
      await call();
    } catch (failure) {
      if (gate.caught(failure, () => void act(call))) return;
      setError(formFailure(failure, []).message);
    }
  }

  const startSetup = () =>
    act(async () => {
      setCodes(null);
      setSetup(await api.mfa.setupTotp());
    });

  const regenerate = () =>
    act(async () => {
      setCodes((await api.mfa.regenerateRecoveryCodes()).recovery_codes);
      reload();
      onChanged();
    });

  const turnOff = () =>
    act(async () => {
      await api.mfa.disableTotp();
      setConfirmOff(false);
      setCodes(null);
      setStatus("Two-step verification is off. Your password alone signs you in again.");
      reload();
      onChanged();
    });

  return (
    <section aria-labelledby="two-step-heading" className="account-section">
      <h2 id="two-step-heading">Two-step verification</h2>
      <ResourceStatus state={state} loading="Loading…" retry={reload} />
      <Alert text={error} />
      {gate.prompt("To change two-step verification, confirm your password first.")}
      {state.kind === "ready" && !setup && (
        <>
          {enabled ? (
            <p>
              On: signing in asks for a code from your authenticator app after your password.{" "}
              {state.value.recovery_codes_remaining === 1
                ? "1 recovery code left."
                : `${state.value.recovery_codes_remaining} recovery codes left.`}
            </p>
          ) : (
            <p>Off. Add an authenticator app so that a stolen password alone cannot sign in as you.</p>
          )}
          {codes && <RecoveryCodesShown codes={codes} onDone={() => setCodes(null)} />}
          {!codes && (
            <div className="actions">
              {enabled ? (
                <>
                  <button type="button" onClick={() => void regenerate()}>
                    New recovery codes
                  </button>
                  <button type="button" className="button-danger" onClick={() => setConfirmOff(true)}>
                    Turn off two-step verification
                  </button>
                </>
              ) : (
                <button type="button" className="button-primary" onClick={() => void startSetup()}>
                  Set up an authenticator app
                </button>
              )}
            </div>
          )}
          {enabled && confirmOff && (
            <div className="reauth">
              <p>Turn off two-step verification? Your password alone will sign you in, and your recovery codes stop working.</p>
              <div className="actions">
                <button type="button" className="button-danger" onClick={() => void turnOff()}>
                  Yes, turn it off
                </button>
                <button type="button" onClick={() => setConfirmOff(false)}>
                  Cancel
                </button>
              </div>
            </div>
          )}
        </>
      )}
      {setup && (
        <TotpConfirm
          setup={setup}
          onConfirmed={(recoveryCodes) => {
            setSetup(null);
            setCodes(recoveryCodes);
            setStatus("Two-step verification is on.");
            reload();
            onChanged();
          }}
          onCancel={() => setSetup(null)}
        />
      )}
      <div aria-live="polite">{status && <p className="notice notice-status">{status}</p>}</div>
    </section>
  );
}

const CONFIRM_FIELDS = ["code"] as const;

/** The QR code (and the secret, for typing in), then a first code from the app turns it on. */
function TotpConfirm({
  setup,
  onConfirmed,
  onCancel,
}: {
  setup: TotpSetup;
  onConfirmed: (codes: string[]) => void;
  onCancel: () => void;
}) {
  const api = useApi();
  const form = useForm({ fields: CONFIRM_FIELDS, labels: { code: "Code from the app" }, initial: { code: "" } });
  const submit = form.handleSubmit({
    validate: ({ code }) => (/^[0-9]{6}$/.test(code.replace(/\s+/g, "")) ? {} : { code: "Enter the 6 digits the app shows." }),
    action: async ({ code }) => {
      const { recovery_codes } = await api.mfa.confirmTotp(code.replace(/\s+/g, ""));
      onConfirmed(recovery_codes);
    },
    onError: (error) => {
      form.setValue("code", "");
      if (isApiError(error) && (error.code === "invalid_mfa_code" || error.status === 422)) {
        form.fail(null, { code: "This code is wrong. Check the app's clock, and use the newest code." });
        return true;
      }
      return false;
    },
    busyAfterSuccess: false,
  });
  const qr = qrImageSource(setup.qr_svg);
  // The button that opened this is gone: the instructions are where a keyboard user continues.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <div className="totp-setup">
      <h3 ref={heading} tabIndex={-1}>
        Set up your authenticator app
      </h3>
      <ol>
        <li>In your authenticator app, add an account and scan this QR code.</li>
        <li>Then type the 6-digit code the app shows for it below.</li>
      </ol>
      <img className="qr" src={qr} alt="QR code for your authenticator app" />
      <p>
        Cannot scan it? Enter this key in the app instead: <code className="secret">{setup.secret}</code>
      </p>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form className="form" noValidate onSubmit={(event) => void submit(event)} aria-busy={form.busy}>
        <Field
          id="totp-code"
          {...form.field("code")}
          autoComplete="one-time-code"
          inputMode="numeric"
          required
        />
        <div className="actions">
          <button type="submit" className="button-primary">
            Turn on
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}

/**
 * The server's QR code (SVG markup) as an image source. As an image (a data: URL, which the CSP's
 * img-src allows) it cannot run script or touch the page, unlike markup put into the DOM. Markup
 * made for inlining may lack the SVG namespace, without which an image does not render.
 */
export function qrImageSource(svg: string): string {
  const markup = /^\s*<svg\b[^>]*\sxmlns=/.test(svg) ? svg : svg.replace(/^\s*<svg\b/, '<svg xmlns="http://www.w3.org/2000/svg"');
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(markup)}`;
}

/** The recovery codes, this one time: copy, download, then gone from the page for good. */
export function RecoveryCodesShown({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const text = `${codes.join("\n")}\n`;
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("The codes are copied.");
    } catch {
      setCopied("Copying did not work here: select the codes and copy them, or download them.");
    }
  }
  return (
    <div className="recovery-codes">
      <h3 ref={heading} tabIndex={-1}>
        Your recovery codes
      </h3>
      <p>
        <strong>Save these codes now: you will not see them again.</strong> Each one signs you in once
        if you lose your authenticator app. Keep them somewhere safe, like a password manager.
      </p>
      <ol aria-label="Recovery codes" className="codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          Copy codes
        </button>
        <a className="button" href={`data:text/plain;charset=utf-8,${encodeURIComponent(text)}`} download="recovery-codes.txt">
          Download codes
        </a>
        <button type="button" className="button-primary" onClick={onDone}>
          I have saved my codes
        </button>
      </div>
      <div aria-live="polite">{copied && <p className="notice notice-status">{copied}</p>}</div>
    </div>
  );
}

// ---- passkeys ---------------------------------------------------------------------------------

const PASSKEY_FIELDS = ["name"] as const;

function Passkeys({ onChanged }: { onChanged: () => void }) {
  const api = useApi();
  const { state, reload } = useResource((signal) => api.passkeys.list(signal), [api]);
  const gate = useReauthGate();
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const supported = passkeysSupported();
  const form = useForm({ fields: PASSKEY_FIELDS, labels: { name: "Name for the new passkey" }, initial: { name: "" } });

  async function create(name: string): Promise<void> {
    setStatus(null);
    setError(null);
    try {
      const passkey = await addPasskey(api, name);
      form.setValue("name", "");
      setStatus(`Passkey “${passkey.name}” added.`);
      reload();
      onChanged();
    } catch (failure) {
      if (gate.caught(failure, () => void create(name))) return;
      setError(passkeyCancelled(failure) ? "No passkey was created." : formFailure(failure, []).message);
    }
  }

  const submit = form.handleSubmit({
    validate: ({ name }) => (name.trim() ? {} : { name: "Give the passkey a name, like the device it is on." }),
    action: ({ name }) => create(name.trim()),
    busyAfterSuccess: false,
  });

  async function remove(id: string, name: string) {
    setStatus(null);
    setError(null);
    try {
      await api.passkeys.remove(id);
      setStatus(`Passkey “${name}” removed.`);
      reload();
      onChanged();
    } catch (failure) {
      if (gate.caught(failure, () => void remove(id, name))) return;
      setError(formFailure(failure, []).message);
    }
  }

  const passkeys = state.kind === "ready" ? state.value.passkeys : [];
  return (
    <section aria-labelledby="passkeys-heading" className="account-section">
      <h2 id="passkeys-heading">Passkeys</h2>
      <p>A passkey signs you in with this device's screen lock or a security key, without a password.</p>
      <ResourceStatus state={state} loading="Loading passkeys…" retry={reload} />
      <Alert text={error} />
      {gate.prompt("To change your passkeys, confirm your password first.")}
      {state.kind === "ready" && passkeys.length === 0 && <p>You have no passkeys yet.</p>}
      {passkeys.length > 0 && (
        <ul className="passkeys" aria-label="Your passkeys">
          {passkeys.map((passkey) => (
            <li key={passkey.id}>
              <strong>{passkey.name}</strong>{" "}
              <span>
                added <time dateTime={passkey.created_at}>{formatDate(passkey.created_at)}</time>,{" "}
                {passkey.last_used_at ? (
                  <>
                    last used <time dateTime={passkey.last_used_at}>{formatDate(passkey.last_used_at)}</time>
                  </>
                ) : (
                  "never used"
                )}
              </span>{" "}
              <button
                type="button"
                aria-label={`Remove passkey: ${passkey.name}`}
                onClick={() => void remove(passkey.id, passkey.name)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {supported ? (
        <>
          {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
          <form className="form" noValidate onSubmit={(event) => void submit(event)} aria-busy={form.busy}>
            <Field id="passkey-name" {...form.field("name")} hint="For example “Work laptop”." required />
            <div className="actions">
              <button type="submit" className="button-primary">
                Add a passkey
              </button>
            </div>
          </form>
        </>
      ) : (
        <p>This browser cannot create passkeys.</p>
      )}
      <div aria-live="polite">{status && <p className="notice notice-status">{status}</p>}</div>
    </section>
  );
}
