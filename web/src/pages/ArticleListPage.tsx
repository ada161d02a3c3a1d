import { useEffect, useState, type FormEvent } from "react";
import type { ArticlePage } from "../api";
import { Pagination } from "../components/Pagination";
import { PageHeading } from "../components/PageHeading";
import { ResourceStatus } from "../components/ResourceStatus";
import { useArticles } from "../context";
import { formatDate } from "../forms";
import { useResource } from "../hooks/useResource";
import { Link, useRouter, useSearchParams } from "../router";

const PER_PAGE = 20;

function listPath(page: number, author: string): string {
  const params = new URLSearchParams();
  if (author) params.set("author", author);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

export default function ArticleListPage() {
  const articles = useArticles();
  const { navigate } = useRouter();
  const params = useSearchParams();
  const author = (params.get("author") ?? "").trim();
  const requested = Number.parseInt(params.get("page") ?? "1", 10);
  const page = Number.isSafeInteger(requested) && requested >= 1 ? requested : 1;
  const { state, reload } = useResource(
    (signal) => articles.list({ page, per_page: PER_PAGE, author: author || undefined }, signal),
    [articles, page, author],
  );
  const [authorInput, setAuthorInput] = useState(author);

  useEffect(() => setAuthorInput(author), [author]);

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

      <ResourceStatus state={state} loading="Loading articles…" failure="Could not load the articles." retry={reload} />
      {state.kind === "ready" && <ArticleList result={state.value} author={author} page={page} />}
    </>
  );
}

function ArticleList({ result, author, page }: { result: ArticlePage; author: string; page: number }) {
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
        Showing {first}–{last} of {result.total_is_estimate ? "about " : ""}
        {result.total} {result.total === 1 ? "article" : "articles"}
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
