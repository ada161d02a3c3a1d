// Where the links in our mails end: the server checks the link, then redirects here with what
// happened as query parameters (`email`, and `code` for a failure). Anyone may open these pages
// (they are public routes): the person following a link is often not signed in.
import type { ReactNode } from "react";
import { EmailRequestForm } from "../components/EmailRequestForm";
import { PageHeading } from "../components/PageHeading";
import { useApi, useSession } from "../context";
import { linkError, resendSent, type LinkKind } from "../link-errors";
import { Link, useSearchParams } from "../router";

function useLinkContext(): { email: string; code: string | null } {
  const params = useSearchParams();
  return { email: params.get("email") ?? "", code: params.get("code") };
}

function SignInOrHome() {
  const { user } = useSession();
  return <p>{user ? <Link to="/">Go to the articles</Link> : <Link to="/login">Sign in</Link>}</p>;
}

export function ConfirmedPage() {
  const { email, code } = useLinkContext();
  const address = email ? <strong>{email}</strong> : "your address";
  return (
    <div className="signin">
      <PageHeading>Your email address is confirmed</PageHeading>
      <p className="notice notice-status" role="status">
        {code === "already_confirmed" ? <>This link was used before: {address} is confirmed.</> : <>Thank you: {address} is confirmed.</>}
      </p>
      <SignInOrHome />
    </div>
  );
}

/** The common shape of the error views: what went wrong, in words, then the way out. */
function LinkErrorPage({ kind, children }: { kind: LinkKind; children: (retry: boolean) => ReactNode }) {
  const { code } = useLinkContext();
  const error = linkError(kind, code);
  return (
    <div className="signin">
      <PageHeading>{error.heading}</PageHeading>
      <div role="alert" className="form-alert">
        <p>{error.text}</p>
      </div>
      {children(error.retry)}
    </div>
  );
}

export function ConfirmErrorPage() {
  const api = useApi();
  const { email } = useLinkContext();
  return (
    <LinkErrorPage kind="confirm">
      {(retry) =>
        retry ? (
          <>
            <h2>Get a new confirmation link</h2>
            <EmailRequestForm
              id="resend"
              initialEmail={email}
              submit="Send a new link"
              send={(address) => api.auth.resendConfirmation(address)}
              sent={resendSent}
            />
          </>
        ) : (
          <SignInOrHome />
        )
      }
    </LinkErrorPage>
  );
}

export function ResetErrorPage() {
  return (
    <LinkErrorPage kind="reset">
      {() => (
        <p>
          <Link to="/forgot-password">Ask for a new reset link</Link>
        </p>
      )}
    </LinkErrorPage>
  );
}

export function EmailChangedPage() {
  const { email } = useLinkContext();
  const { user } = useSession();
  return (
    <div className="signin">
      <PageHeading>Your email address has changed</PageHeading>
      <p className="notice notice-status" role="status">
        Your account now uses {email ? <strong>{email}</strong> : "the new address"}. Sign in with it from now on.
      </p>
      <p>{user ? <Link to="/account">Go to your account</Link> : <Link to="/login">Sign in</Link>}</p>
    </div>
  );
}

export function EmailChangeErrorPage() {
  const { user } = useSession();
  return (
    <LinkErrorPage kind="email-change">
      {() => <p>{user ? <Link to="/account">Go to your account</Link> : <Link to="/login">Sign in</Link>}</p>}
    </LinkErrorPage>
  );
}

export function LoginErrorPage() {
  const api = useApi();
  const { code, email } = useLinkContext();
  return (
    <LinkErrorPage kind="login">
      {() => (
        <>
          {code === "email_unconfirmed" && (
            <>
              <h2>Get a new confirmation link</h2>
              <EmailRequestForm
                id="resend"
                initialEmail={email}
                submit="Send a new link"
                send={(address) => api.auth.resendConfirmation(address)}
                sent={resendSent}
              />
            </>
          )}
          <p>
            <Link to="/login">Sign in</Link> or <Link to="/login/code">sign in with a code</Link>
          </p>
        </>
      )}
    </LinkErrorPage>
  );
}
