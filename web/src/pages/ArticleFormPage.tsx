import { useEffect, useRef, useState } from "react";
import { isApiError } from "@bastion/client";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { ResourceStatus } from "../components/ResourceStatus";
import { PageHeading } from "../components/PageHeading";
import { canEdit, useArticles, useSession } from "../context";
import type { FieldErrors } from "../forms";
import { useForm } from "../hooks/useForm";
import { useResource } from "../hooks/useResource";
import { Link, useRouter } from "../router";

type ArticleField = "title" | "body";
const FIELDS = ["title", "body"] as const;

export const CONFLICT_MESSAGE =
  "Someone else edited this article after you opened it, so your changes were not saved. " +
  "Reload the article to see the latest version, then make your changes again.";

export const MISSING = "This article does not exist or has been deleted.";

/** Create (`id` undefined) or edit an article. Edits send If-Match with the ETag they read. */
export default function ArticleFormPage({ id }: { id?: number }) {
  const articles = useArticles();
  const { user, notify } = useSession();
  const { navigate } = useRouter();
  const editing = id !== undefined;
  const form = useForm({
    fields: FIELDS,
    labels: { title: "Title", body: "Body" },
    initial: { title: "", body: "" },
  });
  const { setValues, clear } = form;
  // A new article has nothing to load: it starts from an empty form.
  const { state, reload } = useResource(id === undefined ? null : (signal) => articles.get(id, signal), [articles, id]);
  const [conflict, setConflict] = useState(false);
  const focusTitleOnLoad = useRef(false);
  const titleRef = form.field("title").inputRef;
  const loaded = state.kind === "ready" ? state.value : null;

  // Whatever was (re)loaded replaces the form's text: after a conflict, the latest version.
  useEffect(() => {
    if (!loaded) return;
    setValues({ title: loaded.data.title, body: loaded.data.body });
    if (focusTitleOnLoad.current) {
      focusTitleOnLoad.current = false;
      titleRef.current?.focus();
    }
  }, [loaded, setValues, titleRef]);

  function reloadLatest() {
    setConflict(false);
    clear();
    focusTitleOnLoad.current = true;
    reload();
  }

  const submit = form.handleSubmit({
    validate: ({ title, body }) => {
      const missing: FieldErrors<ArticleField> = {};
      if (!title.trim()) missing.title = "Enter a title.";
      if (!body.trim()) missing.body = "Write the article's text.";
      return missing;
    },
    action: async ({ title, body }) => {
      const saved =
        id === undefined ? await articles.create({ title, body }) : await articles.update(id, { title, body }, loaded?.etag);
      notify({
        kind: "status",
        text: editing ? "Your changes were saved." : "Your article was published.",
        path: `/articles/${saved.data.id}`,
      });
      navigate(`/articles/${saved.data.id}`);
    },
    onError: (error) => {
      if (!(isApiError(error) && error.status === 412)) return false;
      setConflict(true);
      return true;
    },
  });

  const heading = editing ? "Edit article" : "New article";
  if (state.kind !== "ready") {
    return (
      <>
        <PageHeading>{state.kind === "missing" ? "Article not found" : heading}</PageHeading>
        <ResourceStatus state={state} loading="Loading article…" missing={MISSING} />
        <p>
          <Link to="/">Back to articles</Link>
        </p>
      </>
    );
  }

  return (
    <>
      <PageHeading>{heading}</PageHeading>
      {loaded && !canEdit(user, loaded.data.author.id) && (
        <p className="note">Only the author, an editor or an admin can save changes to this article.</p>
      )}
      {conflict && (
        <div role="alert" className="form-alert conflict">
          <p>{CONFLICT_MESSAGE}</p>
          <button type="button" onClick={reloadLatest}>
            Reload article
          </button>
        </div>
      )}
      {form.message && <FormAlert message={form.message} fieldMessages={form.fieldMessages} />}
      <form
        className="form"
        noValidate
        onSubmit={(event) => {
          setConflict(false);
          void submit(event);
        }}
        aria-busy={form.busy}
      >
        <Field id="article-title" {...form.field("title")} required />
        <Field id="article-body" {...form.field("body")} multiline required />
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
