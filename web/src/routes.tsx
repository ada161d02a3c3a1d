// The app's one route table. Each route is here once: its pattern drives matching, its page the
// page switch, and its `public` flag both the client-side guard and the server, which reads the
// public routes from dist/.vite/routes.json (written from this table by `vite build`).
import { lazy, type ReactNode } from "react";
import { CheckEmailPage } from "./pages/CheckEmailPage";
import { CodeSignInPage } from "./pages/CodeSignInPage";
import { ForgotPasswordPage } from "./pages/ForgotPasswordPage";
import {
  ConfirmedPage,
  ConfirmErrorPage,
  EmailChangedPage,
  EmailChangeErrorPage,
  LoginErrorPage,
  ResetErrorPage,
} from "./pages/LinkPages";
import { LoginPage } from "./pages/LoginPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { RegisterPage } from "./pages/RegisterPage";
import { ResetPasswordPage } from "./pages/ResetPasswordPage";

// The signed-in part of the app is split into its own chunks: the server hands them only to a
// signed-in browser, while the shell (this file, sign-in, register, and the pages that mail links
// lead to, which a person opens before signing in) is public, so it is imported statically.
const ArticleListPage = lazy(() => import("./pages/ArticleListPage"));
const ArticlePage = lazy(() => import("./pages/ArticlePage"));
const ArticleFormPage = lazy(() => import("./pages/ArticleFormPage"));
const AccountPage = lazy(() => import("./pages/AccountPage"));
const SecurityPage = lazy(() => import("./pages/SecurityPage"));

/** `/articles/:id/edit` → "id": the names of a pattern's parameters. */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** Path parameters are positive integer ids (the only kind the app has). */
export type Params<P extends string> = { [K in ParamNames<P>]: number };

export interface RouteDef<N extends string = string> {
  name: N;
  /** An app path ("/" is the article list); `:name` segments are ids. */
  pattern: string;
  page: (params: Record<string, number>) => ReactNode;
  /** Anyone may see it; every other route needs a signed-in user. */
  public: boolean;
}

function route<N extends string, P extends string>(
  name: N,
  pattern: P,
  page: (params: Params<P>) => ReactNode,
  options: { public: boolean },
): RouteDef<N> {
  // The matcher hands `page` exactly the parameters its pattern names, as numbers.
  return { name, pattern, page: page as (params: Record<string, number>) => ReactNode, public: options.public };
}

export const ROUTES = [
  route("articles", "/", () => <ArticleListPage />, { public: false }),
  route("new", "/new", () => <ArticleFormPage key="new" />, { public: false }),
  route("article", "/articles/:id", ({ id }) => <ArticlePage key={id} id={id} />, { public: false }),
  route("edit", "/articles/:id/edit", ({ id }) => <ArticleFormPage key={`edit-${id}`} id={id} />, { public: false }),
  route("account", "/account", () => <AccountPage />, { public: false }),
  route("security", "/account/security", () => <SecurityPage />, { public: false }),
  route("login", "/login", () => <LoginPage />, { public: true }),
  route("code-sign-in", "/login/code", () => <CodeSignInPage />, { public: true }),
  route("register", "/register", () => <RegisterPage />, { public: true }),
  route("check-email", "/check-email", () => <CheckEmailPage />, { public: true }),
  // Where the server's mail links redirect (issue 10's default BASTION_*_VIEW paths).
  route("confirmed", "/confirmed", () => <ConfirmedPage />, { public: true }),
  route("confirm-error", "/confirm-error", () => <ConfirmErrorPage />, { public: true }),
  route("forgot-password", "/forgot-password", () => <ForgotPasswordPage />, { public: true }),
  route("reset-password", "/reset-password", () => <ResetPasswordPage />, { public: true }),
  route("reset-password-error", "/reset-password-error", () => <ResetErrorPage />, { public: true }),
  route("email-changed", "/email-changed", () => <EmailChangedPage />, { public: true }),
  route("email-change-error", "/email-change-error", () => <EmailChangeErrorPage />, { public: true }),
  route("login-error", "/login-error", () => <LoginErrorPage />, { public: true }),
] as const;

/** Any path that no route matches: the not-found page, which anyone may see. */
const NOT_FOUND: RouteDef<"not-found"> = { name: "not-found", pattern: "", page: () => <NotFoundPage />, public: true };

export type RouteName = (typeof ROUTES)[number]["name"] | "not-found";

export interface Route {
  name: RouteName;
  params: Record<string, number>;
  public: boolean;
  page: () => ReactNode;
}

const ID = /^[1-9][0-9]{0,15}$/;

function matchPattern(pattern: string, path: string): Record<string, number> | null {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return null;
  const params: Record<string, number> = {};
  for (const [i, segment] of want.entries()) {
    const actual = got[i] ?? "";
    if (segment.startsWith(":")) {
      if (!ID.test(actual)) return null;
      params[segment.slice(1)] = Number(actual);
    } else if (segment !== actual) {
      return null;
    }
  }
  return params;
}

/** The route for an app path (its query already removed); trailing slashes do not matter. */
export function matchRoute(path: string): Route {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  for (const def of ROUTES as readonly RouteDef<RouteName>[]) {
    const params = matchPattern(def.pattern, trimmed);
    if (params) return { name: def.name, params, public: def.public, page: () => def.page(params) };
  }
  return { name: NOT_FOUND.name, params: {}, public: true, page: () => NOT_FOUND.page({}) };
}

/** What the server needs to know: every route's name, pattern and whether it is public. */
export function routeManifest(): { routes: { name: string; pattern: string; public: boolean }[] } {
  return { routes: ROUTES.map(({ name, pattern, public: isPublic }) => ({ name, pattern, public: isPublic })) };
}
