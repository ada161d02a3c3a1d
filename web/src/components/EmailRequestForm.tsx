import { useEffect, useRef, useState } from "react";
import { DevMailLink } from "./DevMailLink";
import { Field } from "./Field";
import { FormAlert } from "./FormAlert";
import { useForm } from "../hooks/useForm";

const FIELDS = ["email"] as const;

/**
 * One email field and a button that asks the server to mail something (a new confirmation link,
 * a reset link). The server answers the same whether or not the address has an account, so the
 * page says what happens *if* it has one, and never more.
 */
export function EmailRequestForm({
  id,
  initialEmail = "",
  submit,
  send,
  sent,
  autoFocus = false,
  devMail = true,
}: {
  /** Prefix of the input's id (two such forms may share a page). */
  id: string;
  initialEmail?: string;
  /** The button's text. */
  submit: string;
  send: (email: string) => Promise<unknown>;
  /** What to say once the server accepted the request, for the address given. */
  sent: (email: string) => string;
  /** Move focus to the field when the form appears (it is the way forward on the page). */
  autoFocus?: boolean;
  /** Offer the development mail viewer after sending (false when the page shows it already). */
  devMail?: boolean;
}) {
  const [done, setDone] = useState<string | null>(null);
  const form = useForm({ fields: FIELDS, labels: { email: "Email" }, initial: { email: initialEmail } });
  const emailRef = form.field("email").inputRef;
  const focused = useRef(false);

  useEffect(() => {
    if (autoFocus && !focused.current) {
      focused.current = true;
      emailRef.current?.focus();
    }
  }, [autoFocus, emailRef]);

  const onSubmit = form.handleSubmit({
    validate: ({ email }) => (email.trim() ? {} : { email: "Enter your email address." }),
    action: async ({ email }) => {
      setDone(null);
      await send(email.trim());
      setDone(email.trim());
    },
    busyAfterSuccess: false, // the page stays: another address, or the same again, may follow
  });

  return (
    <>
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form className="form" noValidate onSubmit={(event) => void onSubmit(event)} aria-busy={form.busy}>
        <Field id={`${id}-email`} type="email" {...form.field("email")} autoComplete="email" required />
        <div className="actions">
          <button type="submit" className="button-primary">
            {submit}
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {done !== null && (
          <>
            <p className="notice notice-status">{sent(done)}</p>
            {devMail && <DevMailLink />}
          </>
        )}
      </div>
    </>
  );
}
