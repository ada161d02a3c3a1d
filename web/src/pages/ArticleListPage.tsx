import { useEffect, useState, type FormEvent } from "react";
import type { Article, Page } from "../../client/src";
import { Pagination } from "../components/Pagination";
import { PageHeading } from "../components/PageHeading";
import { useApi } from "../context";
import { formatDate, formFailure } from "../forms";
import { Link, useRouter, useSearchParams } from "../router";

const PER_PAGE = 20;

function listPath(page: number, author: string): string {
  const params = new URLSearchParams();
  if (author) params.set("author", author);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

type State =
  | { kind: "loading" }
  | { kind: "error"; message: string }
  | { kind: "loaded"; page: Page<Article> };

export default function ArticleListPage() {
  const api = useApi();
  const { navigate } = useRouter();
  const params = useSearchParams();
  const author = (params.get("author") ?? "").trim();
  const requested = Number.parseInt(params.get("page") ?? "1", 10);
  const page = Number.isSafeInteger(requested) && requested >= 1 ? requested : 1;
  const [state, setState] = useState<State>({ kind: "loading" });
  const [authorInput, setAuthorInput] = useState(author);
  const [reload, setReload] = useState(0);

  useEffect(() => setAuthorInput(author), [author]);

  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: "loading" });
    api.articles
      .list({ page, per_page: PER_PAGE, author: author || undefined }, controller.signal)
      .then((result) => setState({ kind: "loaded", page: result }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ kind: "error", message: formFailure(error, []).message });
      });
    return () => controller.abort();
  }, [api, page, author, reload]);

  function filter(event: FormEvent) {
    event.preventDefault();
    navigate(listPath(1, authorInput.trim()));
  }

  return (
    <>
      <PageHeading>{author ? `Articles by ${author}` : "Articles"}</PageHeading>
      <form role="search" aria-label="Filter articles" className="filter" onSubmit={filter}>
        <div className="field field-inline">
          <label htmlFor="filter-author">Author</label>
          <input
            id="filter-author"
            name="author"
            value={authorInput}
            onChange={(event) => setAuthorInput(event.target.value)}
            autoComplete="off"
          />
        </div>
        <button type="submit">Filter</button>
        {author && <Link to="/">Show all articles</Link>}
      </form>

      {state.kind === "loading" && (
        <p className="loading" aria-live="polite">
          Loading articles…
        </p>
      )}
      {state.kind === "error" && (
        <div role="alert" className="form-alert">
          <p>Could not load the articles. {state.message}</p>
          <button type="button" onClick={() => setReload((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      {state.kind === "loaded" && <ArticleList result={state.page} author={author} page={page} />}
    </>
  );
}

function ArticleList({ result, author, page }: { result: Page<Article>; author: string; page: number }) {
  if (result.total === 0) {
    return (
      <div className="empty">
        <p>{author ? `No articles by ${author}.` : "No articles yet."}</p>
        <p>
          <Link to="/new">Write the first one</Link>
        </p>
      </div>
    );
  }
  if (result.items.length === 0) {
    return (
      <div className="empty">
        <p>There is no page {page}: the list has {result.pages} {result.pages === 1 ? "page" : "pages"}.</p>
        <p>
          <Link to={listPath(1, author)}>Go to the first page</Link>
        </p>
      </div>
    );
  }
  const first = (result.page - 1) * result.per_page + 1;
  const last = first + result.items.length - 1;
  return (
    <>
      <p className="summary">
        Showing {first}–{last} of {result.total} {result.total === 1 ? "article" : "articles"}
        {result.pages > 1 ? ` (page ${result.page} of ${result.pages})` : ""}.
      </p>
      <ul className="article-list" aria-label="Articles">
        {result.items.map((article) => (
          <li key={article.id}>
            <article aria-labelledby={`article-${article.id}-title`}>
              <h2 id={`article-${article.id}-title`}>
                <Link to={`/articles/${article.id}`}>{article.title}</Link>
              </h2>
              <p className="byline">
                by {article.author.username} · <time dateTime={article.created_at}>{formatDate(article.created_at)}</time>
              </p>
            </article>
          </li>
        ))}
      </ul>
      <Pagination page={result.page} pages={result.pages} hrefFor={(n) => listPath(n, author)} />
    </>
  );
}
