import type { Resource } from "../hooks/useResource";

/**
 * What a page shows while its data is not there: a polite loading line (not a status role, so
 * the page's notice stays the only status), a missing text, or an alert with an optional retry.
 */
export function ResourceStatus<T>({
  state,
  loading,
  missing = "",
  failure = "",
  retry,
}: {
  state: Resource<T>;
  loading: string;
  missing?: string;
  /** Words put before the failure's own message. */
  failure?: string;
  retry?: () => void;
}) {
  switch (state.kind) {
    case "loading":
      return (
        <p className="loading" aria-live="polite">
          {loading}
        </p>
      );
    case "missing":
      return <p>{missing}</p>;
    case "error":
      return (
        <div role="alert" className="form-alert">
          <p>{failure ? `${failure} ${state.message}` : state.message}</p>
          {retry && (
            <button type="button" onClick={retry}>
              Try again
            </button>
          )}
        </div>
      );
    case "ready":
      return null;
  }
}
