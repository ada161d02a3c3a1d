// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SESSION, USER, json, problem, type SentRequest } from "../../client/test/fake-server";
import { MFA_RESTART, WRONG_MFA_CODE } from "../components/MfaStep";
import { href } from "../router";
import SIGN_IN from "../signin-wording.json";
import { renderPage } from "../test/render";
import { CodeSignInPage } from "./CodeSignInPage";
import { LoginPage, PASSKEY_CANCELLED } from "./LoginPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function fill(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });
}

function appPath(): string {
  return window.location.pathname.slice(href("").length) + window.location.search;
}

const SIGNED_IN = { user: USER, session: SESSION, csrf_token: "t" };
const MFA_STEP = { mfa_required: true, methods: ["totp", "recovery_code"] };

function signInWithPassword() {
  fill(SIGN_IN.identity, "ada");
  fill(SIGN_IN.password, "right password");
  fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
}

describe("the MFA step after the password", () => {
  it("asks for the app's code (numeric, one-time-code), says a wrong one, then signs in", async () => {
    let tries = 0;
    const { server, api } = renderPage(<LoginPage />, {
      path: "/login?next=%2Fnew",
      handler: (r: SentRequest) => {
        if (r.url === "/api/auth/login") return json(200, MFA_STEP);
        tries += 1;
        return tries === 1 ? problem(401, "invalid_mfa_code") : json(200, SIGNED_IN);
      },
    });
    signInWithPassword();
    const code = await screen.findByLabelText("Authentication code");
    expect(screen.getByRole("heading", { name: SIGN_IN.mfa_heading, level: 2 })).toBeTruthy();
    expect(screen.queryByLabelText(SIGN_IN.password)).toBeNull(); // the step replaces the form
    expect([code.getAttribute("autocomplete"), code.getAttribute("inputmode")]).toEqual(["one-time-code", "numeric"]);
    await waitFor(() => expect(document.activeElement).toBe(code));
    expect(api.user).toBeNull();

    fill("Authentication code", "12345");
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Please correct the error below.Authentication code: Enter the 6 digits from your app.",
    );
    fill("Authentication code", "111 111");
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain(WRONG_MFA_CODE));
    expect((screen.getByLabelText("Authentication code") as HTMLInputElement).value).toBe("");

    fill("Authentication code", "222222");
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    await waitFor(() => expect(appPath()).toBe("/new"));
    expect(api.user).toEqual(USER);
    expect(server.sent.map((r) => [r.url, r.body])).toEqual([
      ["/api/auth/login", { identity: "ada", password: "right password", remember: false }],
      ["/api/auth/mfa/verify", { code: "111111" }],
      ["/api/auth/mfa/verify", { code: "222222" }],
    ]);
  });

  it("switches to a recovery code (free text, no numeric keyboard)", async () => {
    const { server } = renderPage(<LoginPage />, {
      path: "/login",
      handler: (r) => (r.url === "/api/auth/login" ? json(200, MFA_STEP) : json(200, SIGNED_IN)),
    });
    signInWithPassword();
    await screen.findByLabelText("Authentication code");
    fireEvent.click(screen.getByRole("button", { name: "Use a recovery code" }));
    const field = screen.getByLabelText("Recovery code");
    expect([field.getAttribute("autocomplete"), field.getAttribute("inputmode")]).toEqual(["off", null]);
    await waitFor(() => expect(document.activeElement).toBe(field));
    expect(screen.getByRole("button", { name: "Use your authenticator app" })).toBeTruthy();
    fill("Recovery code", " abcd-efgh ");
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    await waitFor(() => expect(appPath()).toBe("/"));
    expect(server.sent[1]!.body).toEqual({ code: "abcd-efgh" });
  });

  it.each([
    [401, "mfa_challenge_invalid", MFA_RESTART],
    [403, "account_disabled", SIGN_IN.account_disabled],
  ])("a pending sign-in that ended (%s %s) goes back to the password with a message", async (status, code, message) => {
    renderPage(<LoginPage />, {
      path: "/login",
      handler: (r) => (r.url === "/api/auth/login" ? json(200, MFA_STEP) : problem(status, code)),
    });
    signInWithPassword();
    fill(await screen.findByLabelText("Authentication code").then(() => "Authentication code"), "123456");
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect((await screen.findByRole("alert")).textContent).toBe(message);
    expect(screen.getByLabelText(SIGN_IN.password)).toBeTruthy();
    expect((screen.getByLabelText(SIGN_IN.identity) as HTMLInputElement).value).toBe("ada");
    expect((screen.getByLabelText(SIGN_IN.password) as HTMLInputElement).value).toBe("");
  });

  it("cancel goes back to the password form without a message", async () => {
    renderPage(<LoginPage />, { path: "/login", handler: () => json(200, MFA_STEP) });
    signInWithPassword();
    await screen.findByLabelText("Authentication code");
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.getByLabelText(SIGN_IN.password)).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("a user without a second factor is signed in by the password alone", async () => {
    const { server } = renderPage(<LoginPage />, { path: "/login", handler: () => json(200, SIGNED_IN) });
    signInWithPassword();
    await waitFor(() => expect(appPath()).toBe("/"));
    expect(server.sent.map((r) => r.url)).toEqual(["/api/auth/login"]);
  });
});

describe("the MFA step after code sign-in", () => {
  it("the right mailed code leads to the MFA step, then the app's code signs in", async () => {
    const { server } = renderPage(<CodeSignInPage />, {
      path: "/login/code",
      handler: (r) => {
        if (r.url === "/api/auth/code/request") return json(202, { status: "code_sent" });
        if (r.url === "/api/auth/code/verify") return json(200, { mfa_required: true, methods: ["totp"] });
        return json(200, SIGNED_IN);
      },
    });
    fill(SIGN_IN.identity, "ada");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.code_request }));
    fill(await screen.findByLabelText("Code").then(() => "Code"), "654321");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
    await screen.findByLabelText("Authentication code");
    expect(screen.queryByRole("button", { name: "Use a recovery code" })).toBeNull(); // none left
    fill("Authentication code", "123456");
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    await waitFor(() => expect(appPath()).toBe("/"));
    expect(server.sent.filter((r) => r.url !== "/dev/mail").map((r) => [r.url, r.body])).toEqual([
      ["/api/auth/code/request", { identity: "ada" }],
      ["/api/auth/code/verify", { identity: "ada", code: "654321" }],
      ["/api/auth/mfa/verify", { code: "123456" }],
    ]);
  });

  it("an ended pending state goes back to asking for a new mailed code", async () => {
    renderPage(<CodeSignInPage />, {
      path: "/login/code",
      handler: (r) => {
        if (r.url === "/api/auth/code/request") return json(202, { status: "code_sent" });
        if (r.url === "/api/auth/code/verify") return json(200, MFA_STEP);
        return problem(401, "mfa_challenge_invalid");
      },
    });
    fill(SIGN_IN.identity, "ada");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.code_request }));
    fill(await screen.findByLabelText("Code").then(() => "Code"), "654321");
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
    fill(await screen.findByLabelText("Authentication code").then(() => "Authentication code"), "123456");
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect((await screen.findByRole("alert")).textContent).toBe(MFA_RESTART);
    expect(screen.getByRole("button", { name: SIGN_IN.code_request })).toBeTruthy();
  });
});

/** A stand-in for the browser's WebAuthn: parses nothing, hands back a credential with toJSON. */
function stubWebAuthn(get: () => Promise<unknown>) {
  const parsed: unknown[] = [];
  class FakePublicKeyCredential {
    static parseCreationOptionsFromJSON(options: unknown) {
      parsed.push(options);
      return options;
    }
    static parseRequestOptionsFromJSON(options: unknown) {
      parsed.push(options);
      return options;
    }
  }
  vi.stubGlobal("PublicKeyCredential", FakePublicKeyCredential);
  const credentials = { create: vi.fn(), get: vi.fn(get) };
  Object.defineProperty(navigator, "credentials", { value: credentials, configurable: true });
  return { parsed, credentials };
}

describe("sign in with a passkey", () => {
  it("is not offered where the browser has no WebAuthn", () => {
    renderPage(<LoginPage />, { path: "/login", handler: () => json(200, SIGNED_IN) });
    expect(screen.queryByRole("button", { name: "Use a passkey" })).toBeNull();
  });

  it("gets the options, asks the browser, sends the assertion's JSON, and signs in", async () => {
    const assertion = { id: "cred-1", type: "public-key", response: { signature: "sig" } };
    const { parsed, credentials } = stubWebAuthn(async () => ({ toJSON: () => assertion }));
    const { server, api } = renderPage(<LoginPage />, {
      path: "/login?next=%2Faccount",
      handler: (r) => (r.url.endsWith("/options") ? json(200, { challenge: "ch", rpId: "app.test" }) : json(200, SIGNED_IN)),
    });
    fireEvent.click(screen.getByRole("button", { name: "Use a passkey" }));
    await waitFor(() => expect(appPath()).toBe("/account"));
    expect(parsed).toEqual([{ challenge: "ch", rpId: "app.test" }]);
    expect(credentials.get).toHaveBeenCalledWith({ publicKey: { challenge: "ch", rpId: "app.test" } });
    expect(server.sent.map((r) => [r.url, r.body])).toEqual([
      ["/api/auth/passkeys/login/options", undefined],
      ["/api/auth/passkeys/login", { credential: assertion }],
    ]);
    expect(api.user).toEqual(USER);
  });

  it("a closed browser dialog is a gentle message; a refused passkey is the server's", async () => {
    let refuse = false;
    stubWebAuthn(async () => {
      if (!refuse) throw new DOMException("closed", "NotAllowedError");
      return { toJSON: () => ({ id: "x" }) };
    });
    renderPage(<LoginPage />, {
      path: "/login",
      handler: (r) => (r.url.endsWith("/options") ? json(200, { challenge: "ch" }) : problem(401, "invalid_credentials")),
    });
    fireEvent.click(screen.getByRole("button", { name: "Use a passkey" }));
    expect((await screen.findByRole("alert")).textContent).toBe(PASSKEY_CANCELLED);
    refuse = true;
    fireEvent.click(screen.getByRole("button", { name: "Use a passkey" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe(SIGN_IN.invalid_credentials));
    expect(appPath()).toBe("/login");
  });
});
