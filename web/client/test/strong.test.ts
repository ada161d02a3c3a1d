import { describe, expect, it } from "vitest";
import { ApiError, createClient, mfaChallenge, needsMfa, type BastionClient } from "../src";
import { SESSION, USER, fakeServer, json, problem, type SentRequest } from "./fake-server";

const SIGNED_IN = { user: USER, session: SESSION, csrf_token: "after-mfa" };
const MFA_STEP = { mfa_required: true, methods: ["totp", "recovery_code"] };
const CODES = { recovery_codes: ["aaaa-bbbb", "cccc-dddd"] };
const PASSKEY = { id: "pk 1", name: "Laptop", created_at: "2026-01-01T00:00:00Z", last_used_at: null };

/** A server that answers each strong sign-in endpoint as the contract says. */
function strongServer(override: (request: SentRequest) => Response | undefined = () => undefined) {
  return fakeServer((request) => {
    const answer = override(request);
    if (answer) return answer;
    const path = new URL(request.url, "http://api.test").pathname;
    switch (`${request.method} ${path}`) {
      case "GET /api/auth/session":
        return json(200, { user: USER, session: SESSION, csrf_token: "body-token" });
      case "POST /api/auth/login":
      case "POST /api/auth/code/verify":
        return json(200, MFA_STEP);
      case "POST /api/auth/mfa/verify":
      case "POST /api/auth/passkeys/login":
        return json(200, SIGNED_IN);
      case "GET /api/auth/mfa":
        return json(200, { methods: ["totp", "recovery_code"], recovery_codes_remaining: 9 });
      case "POST /api/auth/mfa/totp/setup":
        return json(200, { secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://totp/x", qr_svg: "<svg/>" });
      case "POST /api/auth/mfa/totp/confirm":
      case "POST /api/auth/mfa/recovery-codes":
        return json(200, CODES);
      case "DELETE /api/auth/mfa/totp":
      case "DELETE /api/auth/passkeys/pk%201":
        return new Response(null, { status: 204 });
      case "GET /api/auth/passkeys":
        return json(200, { passkeys: [PASSKEY] });
      case "POST /api/auth/passkeys/register/options":
        return json(200, { challenge: "c1", rp: { id: "app.test", name: "Newsroom" } });
      case "POST /api/auth/passkeys/login/options":
        return json(200, { challenge: "c2", rpId: "app.test" });
      case "POST /api/auth/passkeys/register":
        return json(201, PASSKEY);
      case "GET /api/auth/security-events":
        return json(200, { items: [], next_cursor: null });
      default:
        return problem(404, "not_found");
    }
  });
}

function browserClient(server: ReturnType<typeof fakeServer>): BastionClient {
  return createClient({ fetch: server.fetch, cookies: () => "XSRF-TOKEN=cookie-token" });
}

describe("the MFA step of a sign-in (browser mode)", () => {
  it.each([
    ["password", (api: BastionClient) => api.auth.login({ identity: "ada", password: "pw" })],
    ["mailed code", (api: BastionClient) => api.auth.verifyCode("ada", "123456")],
  ])("a right %s for a user with a second factor signs nobody in until mfa.verify", async (_, firstFactor) => {
    const server = strongServer();
    const api = browserClient(server);
    const changes: unknown[] = [];
    api.on("user-changed", (user) => changes.push(user));
    const result = await firstFactor(api);
    expect(needsMfa(result)).toBe(true);
    expect(result).toEqual(MFA_STEP);
    expect([api.user, api.signedIn, changes]).toEqual([null, false, []]);

    expect(await api.mfa.verify("654321")).toEqual(SIGNED_IN);
    expect([api.user, changes, api.csrfToken()]).toEqual([USER, [USER], "cookie-token"]);
    expect(server.sent[1]).toMatchObject({ method: "POST", url: "/api/auth/mfa/verify", body: { code: "654321" } });
    expect(server.sent[1]!.headers.get("X-XSRF-TOKEN")).toBe("cookie-token");
  });

  it("a user without a second factor is signed in by the password, as before", async () => {
    const server = strongServer((r) => (r.url.endsWith("/login") ? json(200, SIGNED_IN) : undefined));
    const api = browserClient(server);
    const result = await api.auth.login({ identity: "ada", password: "pw" });
    expect(needsMfa(result)).toBe(false);
    expect(api.user).toEqual(USER);
  });

  it("a wrong second-factor code is ApiError 401 invalid_mfa_code, not an expired session", async () => {
    const server = strongServer((r) => (r.url.endsWith("/mfa/verify") ? problem(401, "invalid_mfa_code") : undefined));
    const api = browserClient(server);
    const expired: string[] = [];
    api.on("session-expired", (e) => expired.push(e.code));
    await api.auth.login({ identity: "ada", password: "pw" });
    const error = (await api.mfa.verify("000000").catch((e: unknown) => e)) as ApiError;
    expect([error instanceof ApiError, error.status, error.code, api.user, expired]).toEqual([
      true,
      401,
      "invalid_mfa_code",
      null,
      [],
    ]);
  });
});

describe("managing second factors (signed in)", () => {
  it("sends each call to the contract's path and body, with the CSRF header on the unsafe ones", async () => {
    const server = strongServer();
    const api = browserClient(server);
    expect(await api.mfa.status()).toEqual({ methods: ["totp", "recovery_code"], recovery_codes_remaining: 9 });
    expect(await api.mfa.setupTotp()).toEqual({
      secret: "JBSWY3DPEHPK3PXP",
      otpauth_uri: "otpauth://totp/x",
      qr_svg: "<svg/>",
    });
    expect(await api.mfa.confirmTotp("123456")).toEqual(CODES);
    expect(await api.mfa.regenerateRecoveryCodes()).toEqual(CODES);
    expect(await api.mfa.disableTotp()).toBeUndefined();
    expect(server.sent.map((r) => [r.method, r.url, r.body, r.headers.get("X-XSRF-TOKEN")])).toEqual([
      ["GET", "/api/auth/mfa", undefined, null],
      ["POST", "/api/auth/mfa/totp/setup", undefined, "cookie-token"],
      ["POST", "/api/auth/mfa/totp/confirm", { code: "123456" }, "cookie-token"],
      ["POST", "/api/auth/mfa/recovery-codes", undefined, "cookie-token"],
      ["DELETE", "/api/auth/mfa/totp", undefined, "cookie-token"],
    ]);
  });

  it.each(["reauth_required", "invalid_mfa_code"])("%s while setting up keeps the user signed in", async (code) => {
    const server = strongServer((r) => (r.url.includes("/mfa/totp") ? problem(401, code) : undefined));
    const api = browserClient(server);
    await api.start();
    const expired: string[] = [];
    api.on("session-expired", (e) => expired.push(e.code));
    await expect(api.mfa.setupTotp()).rejects.toMatchObject({ status: 401, code });
    await expect(api.mfa.confirmTotp("123456")).rejects.toMatchObject({ status: 401, code });
    expect([api.user, expired]).toEqual([USER, []]);
  });
});

describe("passkeys", () => {
  it("registers, lists and removes (id escaped), with the contract's bodies", async () => {
    const server = strongServer();
    const api = browserClient(server);
    expect(await api.passkeys.registrationOptions()).toEqual({ challenge: "c1", rp: { id: "app.test", name: "Newsroom" } });
    const credential = { id: "cred", type: "public-key", response: {} };
    expect(await api.passkeys.register(credential, "Laptop")).toEqual(PASSKEY);
    expect(await api.passkeys.list()).toEqual({ passkeys: [PASSKEY] });
    await api.passkeys.remove("pk 1");
    expect(server.sent.map((r) => [r.method, r.url, r.body])).toEqual([
      ["POST", "/api/auth/passkeys/register/options", undefined],
      ["POST", "/api/auth/passkeys/register", { credential, name: "Laptop" }],
      ["GET", "/api/auth/passkeys", undefined],
      ["DELETE", "/api/auth/passkeys/pk%201", undefined],
    ]);
  });

  it("signs in with a passkey like login: options, then the assertion", async () => {
    const server = strongServer();
    const api = browserClient(server);
    expect(await api.passkeys.loginOptions()).toEqual({ challenge: "c2", rpId: "app.test" });
    expect(await api.passkeys.login({ id: "cred" })).toEqual(SIGNED_IN);
    expect(api.user).toEqual(USER);
    expect(server.sent.map((r) => [r.method, r.url, r.body, r.credentials])).toEqual([
      ["POST", "/api/auth/passkeys/login/options", undefined, "include"],
      ["POST", "/api/auth/passkeys/login", { credential: { id: "cred" } }, "include"],
    ]);
  });

  it("a refused assertion is an ApiError and signs nobody in", async () => {
    const server = strongServer((r) => (r.url.endsWith("/passkeys/login") ? problem(401, "invalid_credentials") : undefined));
    const api = browserClient(server);
    await expect(api.passkeys.login({ id: "cred" })).rejects.toMatchObject({ status: 401, code: "invalid_credentials" });
    expect(api.signedIn).toBe(false);
  });
});

describe("the security log", () => {
  it("asks for a page by cursor and size, and leaves out what is not given", async () => {
    const server = strongServer();
    const api = browserClient(server);
    expect(await api.auth.securityEvents()).toEqual({ items: [], next_cursor: null });
    await api.auth.securityEvents({ cursor: "abc", perPage: 20 });
    expect(server.sent.map((r) => r.url)).toEqual([
      "/api/auth/security-events",
      "/api/auth/security-events?cursor=abc&per_page=20",
    ]);
  });
});

describe("the token endpoint with a second factor (app mode)", () => {
  it("401 mfa_required carries the mfa_token; a code for it gets the tokens", async () => {
    const server = fakeServer((r) =>
      r.body && typeof r.body === "object" && "mfa_token" in r.body
        ? json(200, { access_token: "a1", refresh_token: "r1", token_type: "Bearer", expires_in: 600 })
        : problem(401, "mfa_required", { mfa_token: "m1", methods: ["totp"] }),
    );
    const api = createClient({ mode: "app", baseUrl: "https://api.example", fetch: server.fetch });
    const error = await api.token.obtain({ identity: "ada", password: "pw" }).catch((e: unknown) => e);
    const challenge = mfaChallenge(error);
    expect(challenge).toEqual({ mfa_token: "m1", methods: ["totp"] });
    await api.token.obtain({ mfa_token: challenge!.mfa_token, code: "123456" });
    expect(server.sent.map((r) => r.body)).toEqual([
      { identity: "ada", password: "pw" },
      { mfa_token: "m1", code: "123456" },
    ]);
    expect(api.tokens()).toEqual({ access_token: "a1", refresh_token: "r1" });
  });

  it("mfaChallenge is null for any other failure", () => {
    expect(mfaChallenge(new Error("x"))).toBeNull();
    expect(mfaChallenge(new ApiError(401, { type: "about:blank", title: "", status: 401, detail: "", code: "invalid_credentials" }))).toBeNull();
  });
});
