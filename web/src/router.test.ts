import { describe, expect, it } from "vitest";
import { safeNext } from "./router";
import { matchRoute, routeManifest } from "./routes";

describe("routes", () => {
  it.each([
    ["/", "articles", {}],
    ["/new", "new", {}],
    ["/login", "login", {}],
    ["/register/", "register", {}],
    ["/articles/42", "article", { id: 42 }],
    ["/articles/42/edit", "edit", { id: 42 }],
    ["/articles/0", "not-found", {}],
    ["/articles/abc", "not-found", {}],
    ["/articles/99999999999999999999", "not-found", {}],
    ["/articles/42/edit/more", "not-found", {}],
    ["/elsewhere", "not-found", {}],
  ])("%s", (path, name, params) => {
    const route = matchRoute(path);
    expect([route.name, route.params]).toEqual([name, params]);
  });

  it("marks sign-in, register, the mail links' pages and not-found public, everything else private", () => {
    const paths = [
      "/", "/new", "/articles/1", "/articles/1/edit", "/account", "/login", "/login/code", "/register",
      "/check-email", "/confirmed", "/confirm-error", "/forgot-password", "/reset-password",
      "/reset-password-error", "/email-changed", "/email-change-error", "/login-error", "/nowhere",
    ];
    const publicNames = paths.map(matchRoute).filter((route) => route.public).map((route) => route.name);
    expect(publicNames).toEqual([
      "login", "code-sign-in", "register", "check-email", "confirmed", "confirm-error", "forgot-password",
      "reset-password", "reset-password-error", "email-changed", "email-change-error", "login-error", "not-found",
    ]);
  });

  it("tells the server every route, with its pattern and whether it is public", () => {
    expect(routeManifest()).toEqual({
      routes: [
        { name: "articles", pattern: "/", public: false },
        { name: "new", pattern: "/new", public: false },
        { name: "article", pattern: "/articles/:id", public: false },
        { name: "edit", pattern: "/articles/:id/edit", public: false },
        { name: "account", pattern: "/account", public: false },
        { name: "security", pattern: "/account/security", public: false },
        { name: "login", pattern: "/login", public: true },
        { name: "code-sign-in", pattern: "/login/code", public: true },
        { name: "register", pattern: "/register", public: true },
        { name: "check-email", pattern: "/check-email", public: true },
        { name: "confirmed", pattern: "/confirmed", public: true },
        { name: "confirm-error", pattern: "/confirm-error", public: true },
        { name: "forgot-password", pattern: "/forgot-password", public: true },
        { name: "reset-password", pattern: "/reset-password", public: true },
        { name: "reset-password-error", pattern: "/reset-password-error", public: true },
        { name: "email-changed", pattern: "/email-changed", public: true },
        { name: "email-change-error", pattern: "/email-change-error", public: true },
        { name: "login-error", pattern: "/login-error", public: true },
      ],
    });
  });

  it.each([
    ["/articles/1?x=1", "/articles/1?x=1"],
    [null, "/"],
    ["//evil.example", "/"],
    ["/\\evil.example", "/"],
    ["https://evil.example", "/"],
    ["/login?next=/x", "/"],
    ["/login/code", "/"],
    ["/account", "/account"],
  ])("safeNext(%s) = %s", (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});
