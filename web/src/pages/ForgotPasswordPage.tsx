import { EmailRequestForm } from "../components/EmailRequestForm";
import { PageHeading } from "../components/PageHeading";
import { useApi } from "../context";
import { Link } from "../router";

export function ForgotPasswordPage() {
  const api = useApi();
  return (
    <div className="signin">
      <PageHeading>Forgot your password?</PageHeading>
      <p>Enter the email address of your account: we will send you a link to choose a new password.</p>
      <EmailRequestForm
        id="forgot"
        submit="Send reset link"
        send={(email) => api.auth.forgotPassword(email)}
        sent={(email) =>
          `If ${email} belongs to an account, a link to reset its password is on its way. It is valid for 30 minutes.`
        }
      />
      <p>
        Remembered it? <Link to="/login">Sign in</Link>
      </p>
    </div>
  );
}
