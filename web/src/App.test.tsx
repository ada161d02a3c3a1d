// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "@bastion/client";
import { SESSION, USER, fakeServer, json, problem, type Handler } from "../client/test/fake-server";
import { App, SESSION_EXPIRED } from "./App";
import { ApiContext } from "./context";
import { href, Router } from "./router";

afterEach(cleanup);

function renderApp(path: string, handler: Handler) {
  window.history.replaceState(null, "", href(path));
  const server = fakeServer(handler);
  const api = createClient({ fetch: server.fetch, cookies: () => "" });
  render(
    <ApiContext.Provider value={api}>
      <Router>
        <App />
      </Router>
    </ApiContext.Provider>,
  );
  return server;
}

const EMPTY_PAGE = { items: [], page: 1, per_page: 20, total: 0, pages: 0 };

describe("App", () => {
  it("when the session is revoked, the next action shows the notice and returns to sign-in", async () => {
    let revoked = false;
    renderApp("/", (request) => {
      if (request.url === "/api/auth/session") {
        return revoked ? problem(401, "not_authenticated", { csrf_token: "anon" }) : json(200, { user: USER, session: SESSION, csrf_token: "t" });
      }
      return revoked ? problem(401, "not_authenticated") : json(200, EMPTY_PAGE);
    });
    expect(await screen.findByText("No articles yet.")).toBeTruthy();
    revoked = true;
    fireEvent.click(screen.getByRole("link", { name: "New article" }));
    // The form page itself makes no request; publishing does.
    fireEvent.change(await screen.findByLabelText("Title"), { target: { value: "t" } });
    fireEvent.change(screen.getByLabelText("Body"), { target: { value: "b" } });
    fireEvent.click(screen.getByRole("button", { name: "Publish" }));

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe(SESSION_EXPIRED);
    expect(await screen.findByRole("heading", { name: "Sign in", level: 1 })).toBeTruthy();
    expect(window.location.pathname).toBe(href("/login"));
    expect(new URLSearchParams(window.location.search).get("next")).toBe("/new");
    expect(screen.queryByRole("button", { name: "Sign out" })).toBeNull();
  });

  it("sends a signed-out visitor to sign-in, then back to where they were going", async () => {
    let signedIn = false;
    const server = renderApp("/articles/5", (request) => {
      if (request.url === "/api/auth/login") {
        signedIn = true;
        return json(200, { user: USER, session: SESSION, csrf_token: "t" });
      }
      if (request.url === "/api/auth/session") return problem(401, "not_authenticated", { csrf_token: "anon" });
      return signedIn
        ? json(200, { id: 5, title: "Five", body: "x", author: { id: 1, username: "bob" }, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" })
        : problem(401, "not_authenticated");
    });
    await screen.findByRole("heading", { name: "Sign in", level: 1 });
    expect(window.location.search).toBe("?next=%2Farticles%2F5");
    fireEvent.change(screen.getByLabelText("Email or username"), { target: { value: "ada" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "pw" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByRole("heading", { name: "Five", level: 1 });
    expect(window.location.pathname).toBe(href("/articles/5"));
    // The visitor was never signed in, so nothing "expired".
    expect(screen.queryByText(SESSION_EXPIRED)).toBeNull();
    expect(server.sent.find((r) => r.url === "/api/auth/login")!.headers.get("X-XSRF-TOKEN")).toBe("anon");
    // Not the author: no edit controls.
    expect(screen.queryByRole("link", { name: "Edit article" })).toBeNull();
    await waitFor(() => expect(document.title).toBe("Five · Newsroom"));
  });
});

describe("App notices", () => {
  it("the session-expired notice gives way to the sign-in form's own alert", async () => {
    let revoked = false;
    renderApp("/", (request) => {
      if (request.url === "/api/auth/login") return problem(401, "invalid_credentials");
      if (request.url === "/api/auth/session") {
        return revoked ? problem(401, "not_authenticated", { csrf_token: "anon" }) : json(200, { user: USER, session: SESSION, csrf_token: "t" });
      }
      return revoked ? problem(401, "not_authenticated") : json(200, EMPTY_PAGE);
    });
    await screen.findByText("No articles yet.");
    revoked = true;
    fireEvent.change(screen.getByLabelText("Author"), { target: { value: "ada" } });
    fireEvent.click(screen.getByRole("button", { name: "Filter" }));
    expect((await screen.findByRole("alert")).textContent).toBe(SESSION_EXPIRED);
    fireEvent.change(screen.getByLabelText("Email or username"), { target: { value: "ada" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getAllByRole("alert").map((a) => a.textContent)).toEqual(["The email, username or password is wrong."]));
  });
});
