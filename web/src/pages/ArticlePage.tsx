import { useEffect, useRef, useState } from "react";
import { isApiError, type Article } from "../../client/src";
import { PageHeading } from "../components/PageHeading";
import { canEdit, useApi, useSession } from "../context";
import { formatDate, formFailure } from "../forms";
import { Link, useRouter } from "../router";

type State =
  | { kind: "loading" }
  | { kind: "missing" }
  | { kind: "error"; message: string }
  | { kind: "loaded"; article: Article; etag: string | null };

export default function ArticlePage({ id }: { id: number }) {
  const api = useApi();
  const { user, notify } = useSession();
  const { navigate } = useRouter();
  const [state, setState] = useState<State>({ kind: "loading" });
  const [confirming, setConfirming] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: "loading" });
    api.articles
      .get(id, controller.signal)
      .then(({ data, etag }) => setState({ kind: "loaded", article: data, etag }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        if (isApiError(error) && error.status === 404) setState({ kind: "missing" });
        else setState({ kind: "error", message: formFailure(error, []).message });
      });
    return () => controller.abort();
  }, [api, id]);

  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);

  async function remove(article: Article, etag: string | null) {
    setDeleteError(null);
    try {
      await api.articles.remove(article.id, etag);
      notify({ kind: "status", text: `Article “${article.title}” deleted.`, path: "/" });
      navigate("/");
    } catch (error) {
      setConfirming(false);
      setDeleteError(
        isApiError(error) && error.status === 412
          ? "Someone else edited this article since you opened it. Reload the page to see their version before deleting it."
          : formFailure(error, []).message,
      );
    }
  }

  const heading =
    state.kind === "loaded"
      ? state.article.title
      : state.kind === "missing"
        ? "Article not found"
        : state.kind === "error"
          ? "Could not load the article"
          : "Loading article…";

  return (
    <>
      <PageHeading>{heading}</PageHeading>
      {state.kind === "loading" && (
        <p className="loading" aria-live="polite">
          Loading article…
        </p>
      )}
      {state.kind === "missing" && <p>This article does not exist or has been deleted.</p>}
      {state.kind === "error" && (
        <div role="alert" className="form-alert">
          <p>{state.message}</p>
        </div>
      )}
      {state.kind === "loaded" && (
        <article className="article" aria-label={state.article.title}>
          <p className="byline">
            by {state.article.author.username} · published{" "}
            <time dateTime={state.article.created_at}>{formatDate(state.article.created_at)}</time>
            {state.article.updated_at !== state.article.created_at && (
              <>
                {" "}
                · updated <time dateTime={state.article.updated_at}>{formatDate(state.article.updated_at)}</time>
              </>
            )}
          </p>
          <div className="article-body">{state.article.body}</div>
          {canEdit(user, state.article.author.id) && (
            <div className="actions">
              <Link to={`/articles/${state.article.id}/edit`} className="button">
                Edit article
              </Link>
              {!confirming && (
                <button type="button" className="button-danger" onClick={() => setConfirming(true)}>
                  Delete article
                </button>
              )}
            </div>
          )}
          {deleteError && (
            <div role="alert" className="form-alert">
              <p>{deleteError}</p>
            </div>
          )}
          {confirming && (
            <div className="confirm" role="group" aria-labelledby="confirm-delete-text">
              <p id="confirm-delete-text">Delete this article? This cannot be undone.</p>
              <button type="button" className="button-danger" onClick={() => void remove(state.article, state.etag)}>
                Yes, delete
              </button>
              <button type="button" ref={cancelRef} onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </div>
          )}
        </article>
      )}
      <p>
        <Link to="/">Back to articles</Link>
      </p>
    </>
  );
}
