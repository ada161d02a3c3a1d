import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { createClient, type User } from "@bastion/client";
import { fakeServer, type Handler } from "../../client/test/fake-server";
import { ApiContext, SessionContext } from "../context";
import { href, Router } from "../router";

/** Render `ui` at app path `path` with a client whose network is the scripted `handler`. */
export function renderPage(ui: ReactNode, { path, handler, user = null }: { path: string; handler: Handler; user?: User | null }) {
  window.history.replaceState(null, "", href(path));
  const server = fakeServer(handler);
  const api = createClient({ fetch: server.fetch, cookies: () => "XSRF-TOKEN=test-token" });
  const result = render(
    <ApiContext.Provider value={api}>
      <Router>
        <SessionContext.Provider value={{ user, notify: () => undefined }}>{ui}</SessionContext.Provider>
      </Router>
    </ApiContext.Provider>,
  );
  return { ...result, server, api };
}
