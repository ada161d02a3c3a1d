// Public types of the client. Request and response bodies come from the generated OpenAPI types
// (schema.gen.ts), so they cannot drift from the server: `npm run check:api` proves the generated
// file is current.
import type { components } from "./schema.gen";

type Schemas = components["schemas"];

export type User = Schemas["UserPublic"];
export type SessionInfo = Schemas["SessionPublic"];
export type SessionState = Schemas["SessionState"];
export type SignedIn = Schemas["SignedIn"];
export type Registered = Schemas["Registered"];
export type LoginInput = Schemas["LoginInput"];
export type RegisterInput = Schemas["RegisterInput"];

/** The author of an article, as embedded in it. */
export type ArticleAuthor = Schemas["AuthorPublic"];

/** An article: {id, title, body, author: {id, username}, created_at, updated_at}. */
export type Article = Schemas["ArticlePublic"];

export type ArticleCreate = Schemas["ArticleCreate"];

/** A page of articles: {items, page, per_page, total, pages}. */
export type ArticlePage = Schemas["ArticlePage"];

/** A partial update: only the fields to change (the server refuses null, so none is allowed here). */
export type ArticleUpdate = Partial<ArticleCreate>;

/** One page of a page-number paginated list. */
export interface Page<T> {
  items: T[];
  page: number;
  per_page: number;
  total: number;
  pages: number;
}

/** `GET /api/articles` in page mode: page, per_page, author, q, sort (an allowlisted order). */
export type ArticleQuery = Omit<Schemas["ArticleListQuery"], "cursor">;

/** A resource with the ETag the server sent for it; send it back as `ifMatch` to update. */
export interface Tagged<T> {
  data: T;
  etag: string | null;
}

/** `POST /api/token` and `POST /api/token/refresh` answers: access + refresh token, expires_in. */
export type TokenPair = Schemas["TokenPair"];

/** `POST /api/token` as JSON: an email or username, and the password. */
export type TokenInput = Pick<Schemas["TokenRequest"], "identity" | "password">;
