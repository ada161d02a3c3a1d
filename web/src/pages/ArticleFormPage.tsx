import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { isApiError } from "../../client/src";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageHeading } from "../components/PageHeading";
import { canEdit, useApi, useSession } from "../context";
import { fieldLines, formFailure, type FieldErrors } from "../forms";
import { Link, useRouter } from "../router";

type ArticleField = "title" | "body";
const FIELDS = ["title", "body"] as const;
const LABELS: Record<ArticleField, string> = { title: "Title", body: "Body" };

export const CONFLICT_MESSAGE =
  "Someone else edited this article after you opened it, so your changes were not saved. " +
  "Reload the article to see the latest version, then make your changes again.";

type Load = { kind: "loading" } | { kind: "missing" } | { kind: "error"; message: string } | { kind: "ready" };

/** Create (`id` undefined) or edit an article. Edits send If-Match with the ETag they read. */
export default function ArticleFormPage({ id }: { id?: number }) {
  const api = useApi();
  const { user, notify } = useSession();
  const { navigate } = useRouter();
  const editing = id !== undefined;
  const [load, setLoad] = useState<Load>(editing ? { kind: "loading" } : { kind: "ready" });
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [etag, setEtag] = useState<string | null>(null);
  const [authorId, setAuthorId] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors<ArticleField>>({});
  const [conflict, setConflict] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const titleRef = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const bodyRef = useRef<HTMLInputElement & HTMLTextAreaElement>(null);

  const fetchArticle = useCallback(
    async (signal?: AbortSignal) => {
      if (id === undefined) return;
      try {
        const { data, etag: tag } = await api.articles.get(id, signal);
        setTitle(data.title);
        setBody(data.body);
        setEtag(tag);
        setAuthorId(data.author.id);
        setLoad({ kind: "ready" });
      } catch (error) {
        if (signal?.aborted) return;
        if (isApiError(error) && error.status === 404) setLoad({ kind: "missing" });
        else setLoad({ kind: "error", message: formFailure(error, []).message });
      }
    },
    [api, id],
  );

  useEffect(() => {
    const controller = new AbortController();
    void fetchArticle(controller.signal);
    return () => controller.abort();
  }, [fetchArticle]);

  useEffect(() => {
    if (attempt === 0) return;
    if (errors.title) titleRef.current?.focus();
    else if (errors.body) bodyRef.current?.focus();
  }, [attempt, errors]);

  async function reloadLatest() {
    setConflict(false);
    setMessage(null);
    setErrors({});
    await fetchArticle();
    titleRef.current?.focus();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const missing: FieldErrors<ArticleField> = {};
    if (!title.trim()) missing.title = "Enter a title.";
    if (!body.trim()) missing.body = "Write the article's text.";
    if (missing.title || missing.body) {
      setConflict(false);
      setErrors(missing);
      setMessage(missing.title && missing.body ? "Please correct the errors below." : "Please correct the error below.");
      setAttempt((n) => n + 1);
      return;
    }
    setBusy(true);
    setMessage(null);
    setConflict(false);
    setErrors({});
    try {
      const saved =
        id === undefined
          ? await api.articles.create({ title, body })
          : await api.articles.update(id, { title, body }, etag);
      notify({
        kind: "status",
        text: editing ? "Your changes were saved." : "Your article was published.",
        path: `/articles/${saved.data.id}`,
      });
      navigate(`/articles/${saved.data.id}`);
    } catch (error) {
      setBusy(false);
      if (isApiError(error) && error.status === 412) {
        setConflict(true);
        return;
      }
      const failure = formFailure(error, FIELDS);
      setMessage(failure.message);
      setErrors(failure.fields);
      setAttempt((n) => n + 1);
    }
  }

  const heading = editing ? "Edit article" : "New article";
  if (load.kind !== "ready") {
    return (
      <>
        <PageHeading>{load.kind === "missing" ? "Article not found" : heading}</PageHeading>
        {load.kind === "loading" && (
          <p className="loading" aria-live="polite">
            Loading article…
          </p>
        )}
        {load.kind === "missing" && <p>This article does not exist or has been deleted.</p>}
        {load.kind === "error" && (
          <div role="alert" className="form-alert">
            <p>{load.message}</p>
          </div>
        )}
        <p>
          <Link to="/">Back to articles</Link>
        </p>
      </>
    );
  }

  return (
    <>
      <PageHeading>{heading}</PageHeading>
      {editing && authorId !== null && !canEdit(user, authorId) && (
        <p className="note">Only the author, an editor or an admin can save changes to this article.</p>
      )}
      {conflict && (
        <div role="alert" className="form-alert conflict">
          <p>{CONFLICT_MESSAGE}</p>
          <button type="button" onClick={() => void reloadLatest()}>
            Reload article
          </button>
        </div>
      )}
      {message && <FormAlert message={message} fieldMessages={fieldLines(errors, LABELS)} />}
      <form className="form" noValidate onSubmit={submit} aria-busy={busy}>
        <Field
          id="article-title"
          label={LABELS.title}
          value={title}
          onChange={setTitle}
          error={errors.title}
          required
          inputRef={titleRef}
        />
        <Field
          id="article-body"
          label={LABELS.body}
          value={body}
          onChange={setBody}
          error={errors.body}
          multiline
          required
          inputRef={bodyRef}
        />
        <div className="actions">
          <button type="submit" className="button-primary">
            {editing ? "Save changes" : "Publish"}
          </button>
          <Link to={editing ? `/articles/${id}` : "/"}>Cancel</Link>
        </div>
      </form>
    </>
  );
}
