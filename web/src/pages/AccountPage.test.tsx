// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { USER, json, problem, type SentRequest } from "../../client/test/fake-server";
import { renderPage } from "../test/render";
import AccountPage from "./AccountPage";
import { deviceName } from "./AccountSessions";

afterEach(cleanup);

const CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; rv:121.0) Gecko/20100101 Firefox/121.0";
const device = (id: string, current: boolean, user_agent: string, kind: "browser" | "token" = "browser") => ({
  id,
  current,
  kind,
  user_agent,
  ip: current ? "127.0.0.1" : "203.0.113.9",
  created_at: "2026-01-01T00:00:00Z",
  expires_at: "2026-01-02T00:00:00Z",
  last_seen_at: "2026-01-01T10:00:00Z",
});

function fill(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });
}

describe("AccountPage", () => {
  it("changes the password; a wrong current password is that field's error and does not sign out", async () => {
    let wrong = true;
    let listed = 0;
    const { server, api } = renderPage(<AccountPage />, {
      path: "/account",
      user: USER,
      handler: (r: SentRequest) => {
        if (r.url === "/api/auth/sessions") {
          listed += 1;
          return json(200, { sessions: [device("me", true, CHROME)] });
        }
        return wrong ? problem(401, "invalid_credentials") : json(200, { status: "password_changed" });
      },
    });
    const expired: string[] = [];
    api.on("session-expired", (e) => expired.push(e.code));
    expect(screen.getByRole("heading", { name: "Your account", level: 1 })).toBeTruthy();
    expect(screen.getByText(USER.email)).toBeTruthy();
    await screen.findByRole("table");
    fill("Current password", "nope");
    fill("New password", "a brand new passphrase");
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Current password: This is not your current password.");
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText("Current password")));
    expect(expired).toEqual([]);

    wrong = false;
    fill("Current password", "right one");
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByText(/Your password has been changed/)).toBeTruthy();
    expect((screen.getByLabelText("New password") as HTMLInputElement).value).toBe("");
    await waitFor(() => expect(listed).toBe(2)); // the other sessions ended: the list reloads
    expect(server.sent.filter((r) => r.method === "POST").map((r) => r.body)).toEqual([
      { current_password: "nope", new_password: "a brand new passphrase" },
      { current_password: "right one", new_password: "a brand new passphrase" },
    ]);
  });

  it("asks for an email change and says the address changes only with the link", async () => {
    const { server } = renderPage(<AccountPage />, {
      path: "/account",
      user: USER,
      handler: (r) => (r.url === "/api/auth/sessions" ? json(200, { sessions: [] }) : json(202, { status: "email_change_sent" })),
    });
    fill("New email address", "new@example.com");
    fill("Your password", "secret");
    fireEvent.click(screen.getByRole("button", { name: "Change email address" }));
    expect(
      await screen.findByText(`We sent a link to new@example.com. Your address changes when you open it; until then, keep using ${USER.email}.`),
    ).toBeTruthy();
    expect(server.sent.find((r) => r.method === "POST")?.body).toEqual({ email: "new@example.com", password: "secret" });
  });

  it("lists the sessions and ends another one after confirming the password (reauth_required)", async () => {
    let fresh = false;
    let sessions = [device("me", true, CHROME), device("other", false, FIREFOX), device("app", false, "", "token")];
    const { server } = renderPage(<AccountPage />, {
      path: "/account",
      user: USER,
      handler: (r) => {
        if (r.url === "/api/auth/sessions") return json(200, { sessions });
        if (r.url === "/api/auth/reauth") {
          fresh = true;
          return json(200, { authenticated_at: "2026-01-01T10:00:00Z", reauth_until: "2026-01-01T10:05:00Z" });
        }
        if (!fresh) return problem(401, "reauth_required");
        sessions = sessions.filter((s) => s.id !== "other");
        return new Response(null, { status: 204 });
      },
    });
    const table = await screen.findByRole("table");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((row) => within(row).getByRole("rowheader").textContent)).toEqual([
      "Chrome on Linux This device",
      "Firefox on Windows",
      "An app",
    ]);
    expect(within(rows[0]!).queryByRole("button")).toBeNull(); // this device signs out from the header
    fireEvent.click(screen.getByRole("button", { name: "End session: Firefox on Windows, 203.0.113.9" }));
    const password = await screen.findByLabelText("Password");
    await waitFor(() => expect(document.activeElement).toBe(password));
    fill("Password", "secret");
    fireEvent.click(screen.getByRole("button", { name: "Confirm password" }));
    expect(await screen.findByText("Signed out: Firefox on Windows (203.0.113.9).")).toBeTruthy();
    await waitFor(() => expect(screen.queryByText("Firefox on Windows")).toBeNull());
    expect(screen.queryByLabelText("Password")).toBeNull();
    expect(server.sent.filter((r) => r.method !== "GET").map((r) => [r.method, r.url])).toEqual([
      ["DELETE", "/api/auth/sessions/other"],
      ["POST", "/api/auth/reauth"],
      ["DELETE", "/api/auth/sessions/other"],
    ]);
  });

  it("names devices from their user agent", () => {
    expect(deviceName({ kind: "browser", user_agent: CHROME })).toBe("Chrome on Linux");
    expect(deviceName({ kind: "browser", user_agent: "curl/8" })).toBe("A browser");
    expect(deviceName({ kind: "token", user_agent: CHROME })).toBe("An app");
  });
});
