// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { USER, json, problem, type SentRequest } from "../../client/test/fake-server";
import { renderPage } from "../test/render";
import { EVENT_WORDING, eventWording } from "./SecurityEvents";
import SecurityPage, { qrImageSource } from "./SecurityPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function fill(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });
}

const CODES = Array.from({ length: 10 }, (_, i) => `code-${i}`);
const SETUP = { secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://totp/Newsroom:ada", qr_svg: '<svg xmlns="http://www.w3.org/2000/svg"/>' };
const NO_EVENTS = { items: [], next_cursor: null };
const CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

type Routes = Record<string, (r: SentRequest) => Response>;

/** The page's server: the three lists answer empty unless a test says otherwise. */
function securityServer(routes: Routes) {
  return (r: SentRequest) => {
    const key = `${r.method} ${r.url.split("?")[0]}`;
    const route = routes[key];
    if (route) return route(r);
    if (key === "GET /api/auth/mfa") return json(200, { methods: [], recovery_codes_remaining: 0 });
    if (key === "GET /api/auth/passkeys") return json(200, { passkeys: [] });
    if (key === "GET /api/auth/security-events") return json(200, NO_EVENTS);
    return problem(404, "not_found");
  };
}

describe("two-step verification", () => {
  it("sets up the app: reauth first, the QR code as an image, a wrong code, then recovery codes once", async () => {
    let fresh = false;
    let enabled = false;
    const { server } = renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/mfa": () =>
          json(200, enabled ? { methods: ["totp", "recovery_code"], recovery_codes_remaining: 10 } : { methods: [], recovery_codes_remaining: 0 }),
        "POST /api/auth/reauth": () => {
          fresh = true;
          return json(200, { authenticated_at: "2026-01-01T10:00:00Z", reauth_until: "2026-01-01T10:05:00Z" });
        },
        "POST /api/auth/mfa/totp/setup": () => (fresh ? json(200, SETUP) : problem(401, "reauth_required")),
        "POST /api/auth/mfa/totp/confirm": (r) => {
          if ((r.body as { code: string }).code !== "123456") return problem(401, "invalid_mfa_code");
          enabled = true;
          return json(200, { recovery_codes: CODES });
        },
      }),
    });
    expect(screen.getByRole("heading", { name: "Account security", level: 1 })).toBeTruthy();
    fireEvent.click(await screen.findByRole("button", { name: "Set up an authenticator app" }));
    const password = await screen.findByLabelText("Password");
    expect(screen.getByText("To change two-step verification, confirm your password first.")).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(password));
    fill("Password", "secret");
    fireEvent.click(screen.getByRole("button", { name: "Confirm password" }));

    const qr = (await screen.findByRole("img", { name: "QR code for your authenticator app" })) as HTMLImageElement;
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole("heading", { name: "Set up your authenticator app" })));
    expect(qr.getAttribute("src")).toBe(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(SETUP.qr_svg)}`);
    expect(document.querySelector("svg")).toBeNull(); // the markup never enters the page's DOM
    expect(screen.getByText(SETUP.secret).tagName).toBe("CODE");
    const code = screen.getByLabelText("Code from the app");
    expect([code.getAttribute("autocomplete"), code.getAttribute("inputmode")]).toEqual(["one-time-code", "numeric"]);

    fill("Code from the app", "000000");
    fireEvent.click(screen.getByRole("button", { name: "Turn on" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Code from the app: This code is wrong.");
    fill("Code from the app", "123 456");
    fireEvent.click(screen.getByRole("button", { name: "Turn on" }));

    const list = await screen.findByRole("list", { name: "Recovery codes" });
    expect(within(list).getAllByRole("listitem").map((li) => li.textContent)).toEqual(CODES);
    expect(screen.getByText("Save these codes now: you will not see them again.")).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole("heading", { name: "Your recovery codes" })));
    const download = screen.getByRole("link", { name: "Download codes" });
    expect(download.getAttribute("download")).toBe("recovery-codes.txt");
    expect(decodeURIComponent(download.getAttribute("href")!.split(",")[1]!)).toBe(`${CODES.join("\n")}\n`);
    expect(await screen.findByText("Two-step verification is on.")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "I have saved my codes" }));
    expect(screen.queryByRole("list", { name: "Recovery codes" })).toBeNull();
    expect(screen.queryByText("code-0")).toBeNull(); // gone from the page for good
    expect(await screen.findByText(/10 recovery codes left/)).toBeTruthy();
    expect(server.sent.filter((r) => r.method !== "GET").map((r) => [r.method, r.url, r.body])).toEqual([
      ["POST", "/api/auth/mfa/totp/setup", undefined],
      ["POST", "/api/auth/reauth", { password: "secret" }],
      ["POST", "/api/auth/mfa/totp/setup", undefined],
      ["POST", "/api/auth/mfa/totp/confirm", { code: "000000" }],
      ["POST", "/api/auth/mfa/totp/confirm", { code: "123456" }],
    ]);
  });

  it("asks a user with two-step sign-in for a code too when confirming the password", async () => {
    let fresh = false;
    const { server } = renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/mfa": () => json(200, { methods: ["totp", "recovery_code"], recovery_codes_remaining: 3 }),
        "POST /api/auth/reauth": (r) => {
          const body = r.body as { password: string; code?: string };
          if (!body.code) return problem(401, "mfa_required", { methods: ["totp", "recovery_code"] });
          if (body.code !== "654321") return problem(401, "invalid_mfa_code");
          fresh = true;
          return json(200, { authenticated_at: "2026-01-01T10:00:00Z", reauth_until: "2026-01-01T10:05:00Z" });
        },
        "POST /api/auth/mfa/recovery-codes": () => (fresh ? json(200, { recovery_codes: CODES }) : problem(401, "reauth_required")),
      }),
    });
    fireEvent.click(await screen.findByRole("button", { name: "New recovery codes" }));
    await screen.findByLabelText("Password");
    fill("Password", "secret");
    fireEvent.click(screen.getByRole("button", { name: "Confirm password" }));
    expect((await screen.findByRole("alert")).textContent).toContain("enter a code from your authenticator app too");
    const code = screen.getByLabelText("Authenticator or recovery code");
    expect([code.getAttribute("autocomplete"), code.getAttribute("inputmode")]).toEqual(["one-time-code", "numeric"]);
    fill("Authenticator or recovery code", "111111");
    fireEvent.click(screen.getByRole("button", { name: "Confirm password" }));
    expect((await screen.findByRole("alert")).textContent).toContain("This code is not valid.");
    fill("Authenticator or recovery code", "654321");
    fireEvent.click(screen.getByRole("button", { name: "Confirm password" }));
    expect(await screen.findByRole("list", { name: "Recovery codes" })).toBeTruthy();
    expect(server.sent.filter((r) => r.method !== "GET").map((r) => [r.method, r.url, r.body])).toEqual([
      ["POST", "/api/auth/mfa/recovery-codes", undefined],
      ["POST", "/api/auth/reauth", { password: "secret" }],
      ["POST", "/api/auth/reauth", { password: "secret", code: "111111" }],
      ["POST", "/api/auth/reauth", { password: "secret", code: "654321" }],
      ["POST", "/api/auth/mfa/recovery-codes", undefined],
    ]);
  });

  it("copies the codes to the clipboard", async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/mfa": () => json(200, { methods: ["totp", "recovery_code"], recovery_codes_remaining: 2 }),
        "POST /api/auth/mfa/recovery-codes": () => json(200, { recovery_codes: CODES }),
      }),
    });
    fireEvent.click(await screen.findByRole("button", { name: "New recovery codes" }));
    fireEvent.click(await screen.findByRole("button", { name: "Copy codes" }));
    expect(await screen.findByText("The codes are copied.")).toBeTruthy();
    expect(writeText).toHaveBeenCalledWith(`${CODES.join("\n")}\n`);
  });

  it("when on: shows the codes left, turns off after a confirmation, and the log reloads", async () => {
    let enabled = true;
    let eventLoads = 0;
    const { server } = renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/mfa": () =>
          json(200, enabled ? { methods: ["totp", "recovery_code"], recovery_codes_remaining: 1 } : { methods: [], recovery_codes_remaining: 0 }),
        "DELETE /api/auth/mfa/totp": () => {
          enabled = false;
          return new Response(null, { status: 204 });
        },
        "GET /api/auth/security-events": () => {
          eventLoads += 1;
          return json(200, NO_EVENTS);
        },
      }),
    });
    expect(await screen.findByText(/1 recovery code left\./)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Turn off two-step verification" }));
    expect(server.sent.some((r) => r.method === "DELETE")).toBe(false); // not before the confirmation
    fireEvent.click(screen.getByRole("button", { name: "Yes, turn it off" }));
    expect(await screen.findByText("Two-step verification is off. Your password alone signs you in again.")).toBeTruthy();
    expect(await screen.findByRole("button", { name: "Set up an authenticator app" })).toBeTruthy();
    await waitFor(() => expect(eventLoads).toBe(2));
  });
});

/** A stand-in for the browser's WebAuthn (jsdom has none). */
function stubWebAuthn(create: () => Promise<unknown>) {
  class FakePublicKeyCredential {
    static parseCreationOptionsFromJSON(options: unknown) {
      return { parsed: options };
    }
    static parseRequestOptionsFromJSON(options: unknown) {
      return { parsed: options };
    }
  }
  vi.stubGlobal("PublicKeyCredential", FakePublicKeyCredential);
  const credentials = { create: vi.fn(create), get: vi.fn() };
  Object.defineProperty(navigator, "credentials", { value: credentials, configurable: true });
  return credentials;
}

const PASSKEY = { id: "pk1", name: "Work laptop", created_at: "2026-01-01T10:00:00Z", last_used_at: null };

describe("the QR code as an image", () => {
  it("adds the SVG namespace when the markup was made for inlining, and keeps one that is there", () => {
    const inline = '<svg width="33" height="33" class="segno"><path d="M4 4.5h7"/></svg>';
    const decoded = (svg: string) => decodeURIComponent(qrImageSource(svg).split(",")[1]!);
    expect(qrImageSource(inline).startsWith("data:image/svg+xml;charset=utf-8,")).toBe(true);
    expect(decoded(inline)).toBe('<svg xmlns="http://www.w3.org/2000/svg" width="33" height="33" class="segno"><path d="M4 4.5h7"/></svg>');
    expect(decoded(SETUP.qr_svg)).toBe(SETUP.qr_svg);
  });
});

describe("passkeys", () => {
  it("adds one: options, the browser's credential as JSON, with its name; then lists it", async () => {
    const attestation = { id: "cred", type: "public-key", response: { attestationObject: "x" } };
    const credentials = stubWebAuthn(async () => ({ toJSON: () => attestation }));
    let passkeys: (typeof PASSKEY)[] = [];
    const { server } = renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/passkeys": () => json(200, { passkeys }),
        "POST /api/auth/passkeys/register/options": () => json(200, { challenge: "ch" }),
        "POST /api/auth/passkeys/register": () => {
          passkeys = [PASSKEY];
          return json(201, PASSKEY);
        },
      }),
    });
    expect(await screen.findByText("You have no passkeys yet.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Add a passkey" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Name for the new passkey: Give the passkey a name");
    fill("Name for the new passkey", " Work laptop ");
    fireEvent.click(screen.getByRole("button", { name: "Add a passkey" }));
    expect(await screen.findByText("Passkey “Work laptop” added.")).toBeTruthy();
    const list = await screen.findByRole("list", { name: "Your passkeys" });
    expect(within(list).getByText("Work laptop")).toBeTruthy();
    expect(within(list).getByText(/never used/)).toBeTruthy();
    expect(credentials.create).toHaveBeenCalledWith({ publicKey: { parsed: { challenge: "ch" } } });
    expect(server.sent.filter((r) => r.method === "POST").map((r) => [r.url, r.body])).toEqual([
      ["/api/auth/passkeys/register/options", undefined],
      ["/api/auth/passkeys/register", { credential: attestation, name: "Work laptop" }],
    ]);
  });

  it("a closed browser dialog adds nothing and says so", async () => {
    stubWebAuthn(async () => {
      throw new DOMException("closed", "NotAllowedError");
    });
    const { server } = renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({ "POST /api/auth/passkeys/register/options": () => json(200, { challenge: "ch" }) }),
    });
    fill("Name for the new passkey", "Phone");
    fireEvent.click(await screen.findByRole("button", { name: "Add a passkey" }));
    expect((await screen.findByRole("alert")).textContent).toBe("No passkey was created.");
    expect(server.sent.some((r) => r.url === "/api/auth/passkeys/register")).toBe(false);
  });

  it("removes one by its button", async () => {
    let passkeys = [PASSKEY, { ...PASSKEY, id: "pk2", name: "Phone", last_used_at: "2026-01-02T10:00:00Z" }];
    const { server } = renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/passkeys": () => json(200, { passkeys }),
        "DELETE /api/auth/passkeys/pk2": () => {
          passkeys = [PASSKEY];
          return new Response(null, { status: 204 });
        },
      }),
    });
    expect(await screen.findByText(/last used/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Remove passkey: Phone" }));
    expect(await screen.findByText("Passkey “Phone” removed.")).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole("button", { name: "Remove passkey: Phone" })).toBeNull());
    expect(server.sent.filter((r) => r.method === "DELETE").map((r) => r.url)).toEqual(["/api/auth/passkeys/pk2"]);
  });

  it("without WebAuthn in the browser, lists them but offers no way to add one", async () => {
    renderPage(<SecurityPage />, { path: "/account/security", user: USER, handler: securityServer({}) });
    expect(await screen.findByText("This browser cannot create passkeys.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Add a passkey" })).toBeNull();
  });
});

const event = (id: number, kind: string) => ({
  id,
  kind,
  occurred_at: "2026-01-01T10:00:00Z",
  ip: "203.0.113.9",
  user_agent: CHROME,
  session_id: "s1",
  details: kind === "login_succeeded" ? { method: "passkey", client: "browser" } : {},
});
const signedIn = (id: number, details: Record<string, unknown>) => ({ ...event(id, "login_succeeded"), details });

describe("security events", () => {
  it("words each kind, says where it came from, and loads more by the cursor", async () => {
    const { server } = renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/security-events": (r) =>
          r.url.includes("cursor=")
            ? json(200, { items: [event(1, "something_new")], next_cursor: null })
            : json(200, { items: [event(3, "login_succeeded"), event(2, "mfa_enabled")], next_cursor: "c2" }),
      }),
    });
    const list = await screen.findByRole("list", { name: "Your security events" });
    expect(within(list).getAllByRole("listitem").map((li) => li.querySelector("strong")?.textContent)).toEqual([
      "Signed in with a passkey",
      "Two-step verification turned on",
    ]);
    expect(within(list).getAllByText("Chrome on Linux, 203.0.113.9")).toHaveLength(2);
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(3));
    expect(within(list).getByText("Something new")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
    expect(server.sent.filter((r) => r.url.startsWith("/api/auth/security-events")).map((r) => r.url)).toEqual([
      "/api/auth/security-events?per_page=20",
      "/api/auth/security-events?cursor=c2&per_page=20",
    ]);
  });

  it("names how a sign-in was made: the method, and the second factor", async () => {
    renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/security-events": () =>
          json(200, {
            items: [
              signedIn(4, { client: "browser" }),
              signedIn(3, { client: "browser", method: "code" }),
              signedIn(2, { client: "browser", method: "password", mfa: true }),
              signedIn(1, { client: "app", method: "something_new" }),
            ],
            next_cursor: null,
          }),
      }),
    });
    const list = await screen.findByRole("list", { name: "Your security events" });
    expect(within(list).getAllByRole("listitem").map((li) => li.querySelector("strong")?.textContent)).toEqual([
      "Signed in",
      "Signed in with an emailed code",
      "Signed in with a password and two-step verification",
      "Signed in",
    ]);
  });

  it("a failed page keeps what was shown and can be tried again", async () => {
    let fail = true;
    renderPage(<SecurityPage />, {
      path: "/account/security",
      user: USER,
      handler: securityServer({
        "GET /api/auth/security-events": () => (fail ? problem(503, "unavailable") : json(200, { items: [event(1, "logout")], next_cursor: null })),
      }),
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("detail of unavailable");
    fail = false;
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("Signed out")).toBeTruthy();
  });

  it("has words for every kind the issue names", () => {
    const issue = ["login_succeeded", "login_failed", "logout", "password_changed", "password_reset", "email_changed",
      "mfa_enabled", "mfa_disabled", "passkey_added", "passkey_removed", "recovery_code_used", "session_ended",
      "refresh_token_reused", "rate_limited"];
    expect(issue.filter((kind) => !(kind in EVENT_WORDING))).toEqual([]); // each worded on purpose
    expect(new Set(issue.map(eventWording)).size).toBe(issue.length);
  });
});
