import { PageHeading } from "../components/PageHeading";
import { Link } from "../router";

export function NotFoundPage() {
  return (
    <>
      <PageHeading>Page not found</PageHeading>
      <p>There is nothing at this address.</p>
      <p>
        <Link to="/">Go to the articles</Link>
      </p>
    </>
  );
}
