import { useEffect, useRef, useState } from "react";
import { isApiError } from "@bastion/client";
import type { Article } from "../api";
import { PageHeading } from "../components/PageHeading";
import { ResourceStatus } from "../components/ResourceStatus";
import { canEdit, useArticles, useSession } from "../context";
import { formatDate, formFailure } from "../forms";
import { useResource } from "../hooks/useResource";
import { Link, useRouter } from "../router";
import { MISSING } from "./ArticleFormPage";

export default function ArticlePage({ id }: { id: number }) {
  const articles = useArticles();
  const { user, notify } = useSession();
  const { navigate } = useRouter();
  const { state } = useResource((signal) => articles.get(id, signal), [articles, id]);
  const [confirming, setConfirming] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);

  async function remove(target: Article, etag: string | null) {
    setDeleteError(null);
    try {
      await articles.remove(target.id, etag);
      notify({ kind: "status", text: `Article “${target.title}” deleted.`, path: "/" });
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

  const article = state.kind === "ready" ? state.value.data : null;
  const etag = state.kind === "ready" ? state.value.etag : null;
  const heading = article
    ? article.title
    : state.kind === "missing"
      ? "Article not found"
      : state.kind === "error"
        ? "Could not load the article"
        : "Loading article…";

  return (
    <>
      <PageHeading>{heading}</PageHeading>
      <ResourceStatus state={state} loading="Loading article…" missing={MISSING} />
      {article && (
        <article className="article" aria-label={article.title}>
          <p className="byline">
            by {article.author.username} · published{" "}
            <time dateTime={article.created_at}>{formatDate(article.created_at)}</time>
            {article.updated_at !== article.created_at && (
              <>
                {" "}
                · updated <time dateTime={article.updated_at}>{formatDate(article.updated_at)}</time>
              </>
            )}
          </p>
          <div className="article-body">{article.body}</div>
          {canEdit(user, article.author.id) && (
            <div className="actions">
              <Link to={`/articles/${article.id}/edit`} className="button">
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
              <button type="button" className="button-danger" onClick={() => void remove(article, etag)}>
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
