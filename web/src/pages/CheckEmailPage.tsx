import { DevMailLink } from "../components/DevMailLink";
import { EmailRequestForm } from "../components/EmailRequestForm";
import { PageHeading } from "../components/PageHeading";
import { useApi } from "../context";
import { resendSent } from "../link-errors";
import { Link, useSearchParams } from "../router";

/** Where registering ends while the address is not confirmed: "check your email". */
export function CheckEmailPage() {
  const api = useApi();
  const email = useSearchParams().get("email") ?? "";
  return (
    <div className="signin">
      <PageHeading>Check your email</PageHeading>
      <p>
        We sent an email to {email ? <strong>{email}</strong> : "the address you gave"}. Open the link in it to confirm
        your address, then sign in.
      </p>
      <DevMailLink />
      <h2>No email?</h2>
      <p>It can take a few minutes, and it may be in your spam folder. You can also ask for a new link.</p>
      <EmailRequestForm
        id="resend"
        initialEmail={email}
        submit="Send a new link"
        send={(address) => api.auth.resendConfirmation(address)}
        sent={resendSent}
        devMail={false}
      />
      <p>
        Confirmed already? <Link to="/login">Sign in</Link>
      </p>
    </div>
  );
}
