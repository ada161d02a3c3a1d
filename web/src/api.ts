// Newsroom's own API calls (the articles), built on the framework-free Bastion client. The
// client knows sessions, CSRF and tokens; what an article is and where it lives is the app's.
import type { BastionClient, components } from "@bastion/client";

type Schemas = components["schemas"];

/** An article: {id, title, body, author: {id, username}, created_at, updated_at}. */
export type Article = Schemas["ArticlePublic"];
export type ArticleCreate = Schemas["ArticleCreate"];
/** A page of articles: {items, page, per_page, total, pages, total_is_estimate}. */
export type ArticlePage = Schemas["ArticlePage"];
/** `GET /api/articles` in page mode: page, per_page, author, q, sort (an allowlisted order). */
export type ArticleQuery = Omit<Schemas["ArticleListQuery"], "cursor">;

/** A partial update: only the fields to change. The schema admits null, the server refuses it. */
export type ArticleUpdate = { [K in keyof Schemas["ArticleUpdate"]]?: NonNullable<Schemas["ArticleUpdate"][K]> };

/** A resource with the ETag the server sent for it; send it back as `ifMatch` to update. */
export interface Tagged<T> {
  data: T;
  etag: string | null;
}

function ifMatch(etag: string | null | undefined): Record<string, string> {
  return etag ? { "If-Match": etag } : {};
}

/** The articles API over `client` (either kind: a browser session or an app's tokens). */
export function articlesApi(client: BastionClient) {
  return {
    list: async (query: ArticleQuery = {}, signal?: AbortSignal): Promise<ArticlePage> => {
      const { data } = await client.request<ArticlePage>("GET", "/api/articles", { query: { ...query }, signal });
      return data;
    },
    get: async (id: number, signal?: AbortSignal): Promise<Tagged<Article>> => {
      const { data, headers } = await client.request<Article>("GET", `/api/articles/${id}`, { signal });
      return { data, etag: headers.get("ETag") };
    },
    create: async (input: ArticleCreate): Promise<Tagged<Article>> => {
      const { data, headers } = await client.request<Article>("POST", "/api/articles", { body: input });
      return { data, etag: headers.get("ETag") };
    },
    /** Partial update; pass the ETag you read so that a concurrent edit answers 412. */
    update: async (id: number, input: ArticleUpdate, etag?: string | null): Promise<Tagged<Article>> => {
      const { data, headers } = await client.request<Article>("PATCH", `/api/articles/${id}`, {
        body: input,
        headers: ifMatch(etag),
      });
      return { data, etag: headers.get("ETag") };
    },
    remove: async (id: number, etag?: string | null): Promise<void> => {
      await client.request<undefined>("DELETE", `/api/articles/${id}`, { headers: ifMatch(etag) });
    },
  };
}

export type ArticlesApi = ReturnType<typeof articlesApi>;
