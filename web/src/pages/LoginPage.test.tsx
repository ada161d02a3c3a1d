// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { problem } from "../../client/test/fake-server";
import SIGN_IN from "../signin-wording.json";
import { renderPage } from "../test/render";
import { LoginPage } from "./LoginPage";

afterEach(cleanup);

describe("LoginPage", () => {
  it("names the first missing field in the alert and focuses it, without calling the server", async () => {
    const { server } = renderPage(<LoginPage />, { path: "/login", handler: () => problem(500, "boom") });
    fireEvent.change(screen.getByLabelText(SIGN_IN.identity), { target: { value: "ada" } });
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Please correct the error below.Password: Enter your password.");
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText(SIGN_IN.password)));
    expect(screen.getByLabelText(SIGN_IN.identity).getAttribute("aria-invalid")).toBeNull();
    expect(server.sent).toEqual([]);
  });

  it("says a wrong password in the server page's words and empties the password", async () => {
    const { server } = renderPage(<LoginPage />, { path: "/login", handler: () => problem(401, "invalid_credentials") });
    fireEvent.change(screen.getByLabelText(SIGN_IN.identity), { target: { value: " ada " } });
    fireEvent.change(screen.getByLabelText(SIGN_IN.password), { target: { value: "wrong" } });
    fireEvent.click(screen.getByLabelText(SIGN_IN.remember));
    fireEvent.click(screen.getByRole("button", { name: SIGN_IN.submit }));
    expect((await screen.findByRole("alert")).textContent).toBe(SIGN_IN.invalid_credentials);
    expect((screen.getByLabelText(SIGN_IN.password) as HTMLInputElement).value).toBe("");
    expect(server.sent.map((r) => r.body)).toEqual([{ identity: "ada", password: "wrong", remember: true }]);
  });
});
