import { describe, expect, it } from "vitest";
import { ApiError, awaitsConfirmation, createClient, type BastionClient } from "../src";
import { SESSION, USER, fakeServer, json, problem, type SentRequest } from "./fake-server";

const ACCEPTED: Record<string, string> = {
  "/api/auth/confirm/resend": "confirmation_sent",
  "/api/auth/password/forgot": "reset_sent",
  "/api/auth/email/change": "email_change_sent",
  "/api/auth/code/request": "code_sent",
};
const TOKENS = { access_token: "a1", refresh_token: "r1", token_type: "Bearer", expires_in: 600 };

/** A server that answers each account endpoint as the contract says. */
function accountServer(override: (request: SentRequest) => Response | undefined = () => undefined) {
  return fakeServer((request) => {
    const answer = override(request);
    if (answer) return answer;
    const path = new URL(request.url, "http://api.test").pathname;
    switch (`${request.method} ${path}`) {
      case "GET /api/auth/session":
        return json(200, { user: USER, session: SESSION, csrf_token: "body-token" });
      case "POST /api/auth/register":
        return json(202, { status: "confirmation_sent" });
      case "POST /api/auth/confirm":
        return json(200, { user: USER });
      case "POST /api/auth/code/verify":
        return json(200, { user: USER, session: SESSION, csrf_token: "after-code" });
      case "POST /api/token":
        return json(200, TOKENS);
      case "POST /api/auth/password/reset":
        return json(200, { status: "password_reset" });
      case "POST /api/auth/password/change":
        return json(200, { status: "password_changed" });
      case "GET /api/auth/sessions":
        return json(200, { sessions: [] });
      case "DELETE /api/auth/sessions":
        return json(200, { ended: 2 });
      case "DELETE /api/auth/sessions/s%202":
        return new Response(null, { status: 204 });
      case "POST /api/auth/reauth":
        return json(200, { authenticated_at: "2026-01-01T00:00:00Z", reauth_until: "2026-01-01T00:05:00Z" });
      default:
        return ACCEPTED[path] ? json(202, { status: ACCEPTED[path] }) : problem(404, "not_found");
    }
  });
}

function browserClient(server: ReturnType<typeof fakeServer>): BastionClient {
  return createClient({ fetch: server.fetch, cookies: () => "XSRF-TOKEN=cookie-token" });
}

describe("account calls: paths, bodies and CSRF (browser mode)", () => {
  it("sends each call to the issue's path with the issue's body, and the CSRF header", async () => {
    const server = accountServer();
    const api = browserClient(server);
    const answers = [
      await api.auth.confirm("tok-1"),
      await api.auth.resendConfirmation("ada@example.com"),
      await api.auth.forgotPassword("ada@example.com"),
      await api.auth.resetPassword("tok-2", "a new long passphrase"),
      await api.auth.changePassword("old secret", "a new long passphrase"),
      await api.auth.changeEmail("new@example.com", "old secret"),
      await api.auth.requestCode("ada"),
    ];
    expect(answers).toEqual([
      { user: USER },
      { status: "confirmation_sent" },
      { status: "reset_sent" },
      { status: "password_reset" },
      { status: "password_changed" },
      { status: "email_change_sent" },
      { status: "code_sent" },
    ]);
    await api.auth.verifyCode("ada", "123456", { remember: true });
    await api.auth.reauthenticate("old secret");
    expect(server.sent.map((r) => [r.method, r.url, r.body])).toEqual([
      ["POST", "/api/auth/confirm", { token: "tok-1" }],
      ["POST", "/api/auth/confirm/resend", { email: "ada@example.com" }],
      ["POST", "/api/auth/password/forgot", { email: "ada@example.com" }],
      ["POST", "/api/auth/password/reset", { token: "tok-2", password: "a new long passphrase" }],
      ["POST", "/api/auth/password/change", { current_password: "old secret", new_password: "a new long passphrase" }],
      ["POST", "/api/auth/email/change", { email: "new@example.com", password: "old secret" }],
      ["POST", "/api/auth/code/request", { identity: "ada" }],
      ["POST", "/api/auth/code/verify", { identity: "ada", code: "123456", remember: true }],
      ["POST", "/api/auth/reauth", { password: "old secret" }],
    ]);
    expect(new Set(server.sent.map((r) => r.headers.get("X-XSRF-TOKEN")))).toEqual(new Set(["cookie-token"]));
    expect(new Set(server.sent.map((r) => r.credentials))).toEqual(new Set(["include"]));
  });

  it("register with confirmation required: 202 'check your email', and nobody is signed in", async () => {
    const server = accountServer();
    const api = browserClient(server);
    const changes: unknown[] = [];
    api.on("user-changed", (user) => changes.push(user));
    const result = await api.auth.register({ email: "ada@example.com", username: "ada", password: "pw" });
    expect(result).toEqual({ status: "confirmation_sent" });
    expect(awaitsConfirmation(result)).toBe(true);
    expect([api.user, api.signedIn, changes]).toEqual([null, false, []]);
  });

  it("register with confirmation optional: 201 signs in, as before", async () => {
    const server = accountServer((r) =>
      r.url.endsWith("/register") ? json(201, { user: USER, session: SESSION, csrf_token: "t" }) : undefined,
    );
    const api = browserClient(server);
    const result = await api.auth.register({ email: "ada@example.com", username: "ada", password: "pw" });
    expect(awaitsConfirmation(result)).toBe(false);
    expect(api.user).toEqual(USER);
  });

  it("verifyCode signs in like login: the user is set and the body's CSRF token kept", async () => {
    const server = accountServer();
    const api = createClient({ fetch: server.fetch, cookies: () => "" });
    const changes: unknown[] = [];
    api.on("user-changed", (user) => changes.push(user));
    const signedIn = await api.auth.verifyCode("ada@example.com", "654321");
    expect(signedIn).toEqual({ user: USER, session: SESSION, csrf_token: "after-code" });
    expect([api.user, changes, api.csrfToken()]).toEqual([USER, [USER], "after-code"]);
  });

  it("confirm does not sign in: the link's owner may be another browser", async () => {
    const server = accountServer();
    const api = browserClient(server);
    expect(await api.auth.confirm("tok")).toEqual({ user: USER });
    expect(api.user).toBeNull();
  });

  it("sign-in refused for an unconfirmed email: ApiError 403 email_unconfirmed, no expiry", async () => {
    const server = accountServer((r) => (r.url.endsWith("/login") ? problem(403, "email_unconfirmed") : undefined));
    const api = browserClient(server);
    const expired: string[] = [];
    api.on("session-expired", (e) => expired.push(e.code));
    const error = (await api.auth.login({ identity: "ada", password: "pw" }).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, api.signedIn, expired]).toEqual([403, "email_unconfirmed", false, []]);
  });

  it("the sessions API: list, end one (id escaped), end all others", async () => {
    const server = accountServer();
    const api = browserClient(server);
    expect(await api.auth.sessions()).toEqual({ sessions: [] });
    await api.auth.endSession("s 2");
    expect(await api.auth.endOtherSessions()).toEqual({ ended: 2 });
    expect(server.sent.map((r) => [r.method, r.url])).toEqual([
      ["GET", "/api/auth/sessions"],
      ["DELETE", "/api/auth/sessions/s%202"],
      ["DELETE", "/api/auth/sessions"],
    ]);
  });
});

describe("a 401 that names the next step is not an expired session", () => {
  it.each(["invalid_credentials", "reauth_required"])("%s on a signed-in call keeps the user signed in", async (code) => {
    const server = accountServer((r) =>
      r.url.includes("/password/change") || r.url.startsWith("/api/auth/sessions/") ? problem(401, code) : undefined,
    );
    const api = browserClient(server);
    await api.start();
    const expired: string[] = [];
    api.on("session-expired", (e) => expired.push(e.code));
    await expect(api.auth.changePassword("wrong", "a new long passphrase")).rejects.toMatchObject({ status: 401, code });
    await expect(api.auth.endSession("other")).rejects.toMatchObject({ status: 401, code });
    expect([api.user, expired]).toEqual([USER, []]);
  });

  it("but not_authenticated on the same call is one", async () => {
    const server = accountServer((r) => (r.url.includes("/password/change") ? problem(401, "not_authenticated") : undefined));
    const api = browserClient(server);
    await api.start();
    const expired: string[] = [];
    api.on("session-expired", (e) => expired.push(e.code));
    await expect(api.auth.changePassword("old", "new")).rejects.toMatchObject({ status: 401 });
    expect([api.user, expired]).toEqual([null, ["not_authenticated"]]);
  });
});

describe("account calls in app mode", () => {
  it("obtains tokens with a sign-in code in place of the password", async () => {
    const server = accountServer();
    const api = createClient({ mode: "app", baseUrl: "https://api.example", fetch: server.fetch });
    await api.token.obtain({ identity: "ada@example.com", code: "123456" });
    expect(server.sent[0]!.body).toEqual({ identity: "ada@example.com", code: "123456" });
    expect(api.tokens()).toEqual({ access_token: "a1", refresh_token: "r1" });
  });

  it("sends the bearer token on change password and change email, and no CSRF header or cookies", async () => {
    const server = accountServer();
    const api = createClient({ mode: "app", baseUrl: "https://api.example", fetch: server.fetch, tokens: TOKENS });
    await api.auth.changePassword("old secret", "a new long passphrase");
    await api.auth.changeEmail("new@example.com", "old secret");
    await api.auth.forgotPassword("ada@example.com");
    expect(server.sent.map((r) => [r.url, r.headers.get("Authorization"), r.headers.get("X-XSRF-TOKEN"), r.credentials])).toEqual([
      ["https://api.example/api/auth/password/change", "Bearer a1", null, "omit"],
      ["https://api.example/api/auth/email/change", "Bearer a1", null, "omit"],
      ["https://api.example/api/auth/password/forgot", "Bearer a1", null, "omit"],
    ]);
  });

  it("a wrong current password (401 invalid_credentials) neither refreshes nor forgets the tokens", async () => {
    const server = accountServer((r) => (r.url.endsWith("/password/change") ? problem(401, "invalid_credentials") : undefined));
    const api = createClient({ mode: "app", fetch: server.fetch, tokens: TOKENS });
    await expect(api.auth.changePassword("wrong", "new")).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(server.sent.map((r) => r.url)).toEqual(["/api/auth/password/change"]);
    expect(api.tokens()).toEqual({ access_token: "a1", refresh_token: "r1" });
  });
});
