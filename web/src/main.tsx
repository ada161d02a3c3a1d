import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { api } from "./api";
import { App } from "./App";
import { ApiContext } from "./context";
import { Router } from "./router";
import "./styles.css";

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
