// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { problem } from "../../client/test/fake-server";
import { renderPage } from "../test/render";
import { RegisterPage } from "./RegisterPage";

afterEach(cleanup);

function fill(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe("RegisterPage", () => {
  it("shows the server's field errors next to their fields, announced and focused", async () => {
    const { server } = renderPage(<RegisterPage />, {
      path: "/register",
      handler: () =>
        problem(422, "validation_failed", {
          errors: [
            { field: "username", code: "taken", message: "This username is taken." },
            { field: "password", code: "too_short", message: "Use at least 8 characters." },
          ],
        }),
    });
    fill("Email", "ada@example.com");
    fill("Username", "ada");
    fill("Password", "short");
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Please correct the errors below.");
    expect(alert.textContent).toContain("Username: This username is taken.");
    expect(alert.textContent).toContain("Password: Use at least 8 characters.");

    const username = screen.getByLabelText("Username");
    expect(username.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (username.getAttribute("aria-describedby") ?? "").split(" ");
    const error = document.getElementById(describedBy[0]!);
    expect(error?.textContent).toBe("This username is taken.");
    // The error sits right after its own input, inside the same field.
    expect(username.parentElement?.contains(error)).toBe(true);
    expect(document.getElementById("register-password-error")?.textContent).toBe("Use at least 8 characters.");
    expect(screen.getByLabelText("Email").getAttribute("aria-invalid")).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(username));

    expect(server.sent).toHaveLength(1);
    expect(server.sent[0]!.body).toEqual({ email: "ada@example.com", username: "ada", password: "short" });
    expect(server.sent[0]!.headers.get("X-XSRF-TOKEN")).toBe("test-token");
  });

  it("refuses empty fields without calling the server", async () => {
    const { server } = renderPage(<RegisterPage />, { path: "/register", handler: () => problem(500, "boom") });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await screen.findByRole("alert");
    for (const label of ["Email", "Username", "Password"]) {
      expect(screen.getByLabelText(label).getAttribute("aria-invalid")).toBe("true");
    }
    expect(document.getElementById("register-email-error")?.textContent).toBe("Enter your email address.");
    expect(server.sent).toEqual([]);
  });
});
