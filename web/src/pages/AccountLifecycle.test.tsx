// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { SESSION, USER, json, problem } from "../../client/test/fake-server";
import { captureFragmentToken, forgetFragmentToken } from "../fragment";
import { href } from "../router";
import { renderPage } from "../test/render";
import SIGN_IN from "../signin-wording.json";
import { CheckEmailPage } from "./CheckEmailPage";
import { CodeSignInPage, WRONG_CODE } from "./CodeSignInPage";
import { ForgotPasswordPage } from "./ForgotPasswordPage";
import { ConfirmedPage, ConfirmErrorPage, EmailChangeErrorPage, ResetErrorPage } from "./LinkPages";
import { LoginPage } from "./LoginPage";
import { RegisterPage } from "./RegisterPage";
import { ResetPasswordPage } from "./ResetPasswordPage";

afterEach(() => {
  cleanup();
  forgetFragmentToken();
});

function fill(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });
}

function appPath(): string {
  return window.location.pathname.slice(href("").length) + window.location.search;
}

const accepted = (status: string) => json(202, { status });

describe("register with confirmation required", () => {
  it("ends on 'check your email' for the address given, signed out", async () => {
    const { api } = renderPage(<RegisterPage />, { path: "/register", handler: () => accepted("confirmation_sent") });
    fill("Email", " ada@example.com ");
    fill("Username", "ada");
    fill("Password", "a long enough passphrase");
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() => expect(appPath()).toBe("/check-email?email=ada%40example.com"));
    expect(api.user).toBeNull();
  });

  it("the check-email page names the address, links the dev mail viewer when there is one, and resends", async () => {
    const { server } = renderPage(<CheckEmailPage />, {
      path: "/check-email?email=ada%40example.com",
      handler: (r) =>
        r.url === "/dev/mail" ? new Response("<html></html>", { headers: { "Content-Type": "text/html" } }) : accepted("confirmation_sent"),
    });
    expect(screen.getByRole("heading", { name: "Check your email", level: 1 })).toBeTruthy();
    expect(screen.getByText("ada@example.com").tagName).toBe("STRONG");
    const viewer = await screen.findByRole("link", { name: "Open the development mail viewer" });
    expect(viewer.getAttribute("href")).toBe("/dev/mail");
    expect((screen.getByLabelText("Email") as HTMLInputElement).value).toBe("ada@example.com");
    fireEvent.click(screen.getByRole("button", { name: "Send a new link" }));
    expect(await screen.findByText("If ada@example.com is waiting to be confirmed, a new link is on its way.")).toBeTruthy();
    expect(server.sent.map((r) => [r.method, r.url, r.body])).toEqual([
      ["GET", "/dev/mail", undefined],
      ["POST", "/api/auth/confirm/resend", { email: "ada@example.com" }],
    ]);
  });

  it("outside development (/dev/mail is 404) there is no viewer link", async () => {
    renderPage(<CheckEmailPage />, { path: "/check-email?email=a%40b.c", handler: () => problem(404, "not_found") });
    await waitFor(() => expect(screen.getByRole("heading", { name: "Check your email" })).toBeTruthy());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByRole("link", { name: /mail viewer/ })).toBeNull();
  });
});

describe("the pages mail links land on", () => {
  it.each([
    ["expired", "This link has expired."],
    ["invalid", "This link is not valid"],
    ["something_new", "This confirmation link did not work."],
  ])("confirm-error?code=%s says why and offers a new link", async (code, words) => {
    const { server } = renderPage(<ConfirmErrorPage />, {
      path: `/confirm-error?code=${code}&email=ada%40example.com`,
      handler: () => accepted("confirmation_sent"),
    });
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Your email address could not be confirmed");
    expect(screen.getByRole("alert").textContent).toContain(words);
    fireEvent.click(screen.getByRole("button", { name: "Send a new link" }));
    await screen.findByText(/a new link is on its way/);
    expect(server.sent.filter((r) => r.method === "POST").map((r) => r.body)).toEqual([{ email: "ada@example.com" }]);
  });

  it("confirm-error?code=already_confirmed: nothing to resend, sign in", () => {
    renderPage(<ConfirmErrorPage />, { path: "/confirm-error?code=already_confirmed", handler: () => problem(404, "not_found") });
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Your email address is already confirmed");
    expect(screen.queryByRole("button", { name: "Send a new link" })).toBeNull();
    expect(screen.getByRole("link", { name: "Sign in" })).toBeTruthy();
  });

  it("confirmed: names the address (also when the link was opened before)", () => {
    renderPage(<ConfirmedPage />, { path: "/confirmed?email=ada%40example.com&code=already_confirmed", handler: () => problem(404, "not_found") });
    expect(screen.getByRole("status").textContent).toBe("This link was used before: ada@example.com is confirmed.");
    expect(screen.getByRole("link", { name: "Sign in" })).toBeTruthy();
  });

  it("reset-password-error and email-change-error word each reason", () => {
    renderPage(<ResetErrorPage />, { path: "/reset-password-error?code=expired", handler: () => problem(404, "not_found") });
    expect(screen.getByRole("alert").textContent).toContain("Reset links are valid for 30 minutes");
    expect(screen.getByRole("link", { name: "Ask for a new reset link" }).getAttribute("href")).toBe(href("/forgot-password"));
    cleanup();
    renderPage(<EmailChangeErrorPage />, { path: "/email-change-error?code=email_taken", handler: () => problem(404, "not_found") });
    expect(screen.getByRole("alert").textContent).toBe("Another account uses this address now, so it cannot become yours.");
  });
});

describe("forgot and reset password", () => {
  it("forgot: the same words whatever the server knows", async () => {
    const { server } = renderPage(<ForgotPasswordPage />, { path: "/forgot-password", handler: () => accepted("reset_sent") });
    fill("Email", "ada@example.com");
    fireEvent.click(screen.getByRole("button", { name: "Send reset link" }));
    expect(await screen.findByText(/If ada@example.com belongs to an account, a link to reset its password is on its way/)).toBeTruthy();
    expect(server.sent.filter((r) => r.method === "POST").map((r) => [r.url, r.body])).toEqual([
      ["/api/auth/password/forgot", { email: "ada@example.com" }],
    ]);
  });

  it("takes the token out of the address bar at start-up, then spends it and sends the person to sign in", async () => {
    window.history.replaceState(null, "", href("/reset-password") + "#token=tok%2Ben");
    captureFragmentToken();
    expect(window.location.hash).toBe("");
    expect(window.location.href).not.toContain("tok");
    const { server } = renderPage(<ResetPasswordPage />, {
      path: "/reset-password",
      handler: () => json(200, { status: "password_reset" }),
    });
    fill("New password", "a brand new passphrase");
    fireEvent.click(screen.getByRole("button", { name: "Set new password" }));
    await waitFor(() => expect(appPath()).toBe("/login"));
    expect(server.sent.map((r) => [r.url, r.body])).toEqual([
      ["/api/auth/password/reset", { token: "tok+en", password: "a brand new passphrase" }],
    ]);
  });

  it("a refused token goes to the reset-error view with the reason; a refused password stays on the page", async () => {
    window.history.replaceState(null, "", href("/reset-password") + "#token=t1");
    captureFragmentToken();
    let answer: Response = problem(422, "validation_failed", {
      errors: [{ field: "password", code: "too_short", message: "Use at least 12 characters." }],
    });
    renderPage(<ResetPasswordPage />, { path: "/reset-password", handler: () => answer });
    fill("New password", "short");
    fireEvent.click(screen.getByRole("button", { name: "Set new password" }));
    expect((await screen.findByRole("alert")).textContent).toContain("New password: Use at least 12 characters.");
    answer = problem(400, "token_expired");
    fill("New password", "a brand new passphrase");
    fireEvent.click(screen.getByRole("button", { name: "Set new password" }));
    await waitFor(() => expect(appPath()).toBe("/reset-password-error?code=expired"));
  });

  it("without a token the page says so and offers a new link, calling nothing", () => {
    const { server } = renderPage(<ResetPasswordPage />, { path: "/reset-password", handler: () => problem(500, "boom") });
    expect(screen.getByRole("alert").textContent).toContain("has no token in it");
    expect(screen.getByRole("link", { name: "Ask for a new reset link" })).toBeTruthy();
    expect(server.sent).toEqual([]);
  });
});

describe("sign-in refusals and codes", () => {
  it("email_unconfirmed on sign-in: a clear alert and a resend form for that address", async () => {
    const { server } = renderPage(<LoginPage />, {
      path: "/login",
      handler: (r) => (r.url === "/api/auth/login" ? problem(403, "email_unconfirmed") : accepted("confirmation_sent")),
    });
    fill(SIGN_IN.identity, "ada@example.com");
    fill(SIGN_IN.password, "right password");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe(`Confirm your email address${SIGN_IN.email_unconfirmed} No mail, or an old one? Ask for a new link below.`);
    const email = screen.getByLabelText("Email") as HTMLInputElement;
    expect(email.value).toBe("ada@example.com");
    await waitFor(() => expect(document.activeElement).toBe(email));
    fireEvent.click(screen.getByRole("button", { name: "Send a new link" }));
    await screen.findByText(/a new link is on its way/);
    expect(server.sent.filter((r) => r.method === "POST").map((r) => r.url)).toEqual([
      "/api/auth/login",
      "/api/auth/confirm/resend",
    ]);
  });

  it("offers the forgot-password and code sign-in pages", () => {
    renderPage(<LoginPage />, { path: "/login", handler: () => problem(500, "boom") });
    expect(screen.getByRole("link", { name: SIGN_IN.forgot_password }).getAttribute("href")).toBe(href("/forgot-password"));
    expect(screen.getByRole("link", { name: SIGN_IN.code_link }).getAttribute("href")).toBe(href("/login/code"));
  });

  it("code sign-in: request by username, then the 6 digits; a wrong code says so and empties the field", async () => {
    let wrong = true;
    const verify = () =>
      wrong ? problem(401, "invalid_code") : json(200, { user: USER, session: SESSION, csrf_token: "t" });
    const { server, api } = renderPage(<CodeSignInPage />, {
      path: "/login/code?next=%2Farticles%2F3",
      handler: (r) => (r.url === "/api/auth/code/verify" ? verify() : r.url === "/dev/mail" ? problem(404, "not_found") : accepted("code_sent")),
    });
    fill(SIGN_IN.identity, " ada ");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.code_request }));
    const code = await screen.findByLabelText("Code");
    await waitFor(() => expect(document.activeElement).toBe(code));
    expect(screen.getByRole("status").textContent).toContain("If ada has an account, we sent a code");
    fill("Code", "12345");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
    expect((await screen.findByRole("alert")).textContent).toContain("Code: Enter the 6 digits from the email.");
    fill("Code", "123 456");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain(WRONG_CODE));
    expect((screen.getByLabelText("Code") as HTMLInputElement).value).toBe("");
    wrong = false;
    fill("Code", "654321");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
    await waitFor(() => expect(appPath()).toBe("/articles/3"));
    expect(api.user).toEqual(USER);
    expect(server.sent.filter((r) => r.method === "POST").map((r) => [r.url, r.body])).toEqual([
      ["/api/auth/code/request", { identity: "ada" }],
      ["/api/auth/code/verify", { identity: "ada", code: "123456" }],
      ["/api/auth/code/verify", { identity: "ada", code: "654321" }],
    ]);
  });
});
