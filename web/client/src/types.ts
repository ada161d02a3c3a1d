// Public types of the client. Auth types come from the generated OpenAPI types (schema.gen.ts),
// so they cannot drift from the server; `npm run check:api` proves the generated file is current.
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
export interface ArticleAuthor {
  id: number;
  username: string;
}

/** An article (issue 3 contract). */
export interface Article {
  id: number;
  title: string;
  body: string;
  author: ArticleAuthor;
  created_at: string;
  updated_at: string;
}

export interface ArticleCreate {
  title: string;
  body: string;
}

export type ArticleUpdate = Partial<ArticleCreate>;

/** One page of a page-number paginated list. */
export interface Page<T> {
  items: T[];
  page: number;
  per_page: number;
  total: number;
  pages: number;
}

export interface ArticleQuery {
  page?: number;
  per_page?: number;
  author?: string;
  q?: string;
  sort?: string;
}

/** A resource with the ETag the server sent for it; send it back as `ifMatch` to update. */
export interface Tagged<T> {
  data: T;
  etag: string | null;
}

/** `POST /api/token` and `POST /api/token/refresh` answers (issue 5). */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

export interface TokenInput {
  identity: string;
  password: string;
}
