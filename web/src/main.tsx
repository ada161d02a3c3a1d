import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "@bastion/client";
import { App } from "./App";
import { ApiContext } from "./context";
import { captureFragmentToken } from "./fragment";
import { Router } from "./router";
// One stylesheet for the SPA and the server-rendered sign-in pages (Flask serves it at /static/).
import "../../app/newsroom/static/newsroom.css";

// First, before any request: a mail link's token leaves the address bar and the history entry.
captureFragmentToken();

/** The app's one API client: browser mode (HttpOnly session cookie + CSRF header). */
const api = createClient({ baseUrl: import.meta.env.VITE_API_URL ?? "", mode: "browser" });

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");

createRoot(root).render(
  <StrictMode>
    <ApiContext.Provider value={api}>
      <Router>
        <App />
      </Router>
    </ApiContext.Provider>
  </StrictMode>,
);
