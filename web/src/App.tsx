import { Suspense, useCallback, useEffect, useMemo, useState } from "react";
import type { User } from "@bastion/client";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { SessionContext, useApi, type Notice } from "./context";
import { currentAppPath, Link, useRouter } from "./router";
import { matchRoute, type Route } from "./routes";

export const SESSION_EXPIRED = "Your session has expired. Please sign in again.";

/** Pages for someone who is not signed in: a signed-in visitor goes to the articles instead. */
const SIGNED_OUT_ONLY = new Set<string>(["login", "register", "code-sign-in", "check-email"]);

type Boot = { kind: "starting" } | { kind: "unreachable" } | { kind: "ready" };

export function App() {
  const api = useApi();
  const { location, navigate } = useRouter();
  const [boot, setBoot] = useState<Boot>({ kind: "starting" });
  const [user, setUser] = useState<User | null>(api.user);
  const [notice, setNotice] = useState<Notice | null>(null);
  const route = matchRoute(location.path);

  const start = useCallback(() => {
    setBoot({ kind: "starting" });
    api
      .start()
      .then(() => setBoot({ kind: "ready" }))
      .catch(() => setBoot({ kind: "unreachable" }));
  }, [api]);

  useEffect(start, [start]);
  useEffect(() => api.on("user-changed", setUser), [api]);

  useEffect(
    () =>
      api.on("session-expired", () => {
        const here = currentAppPath();
        const next = matchRoute(here.split("?")[0] ?? "/").public ? "" : here;
        setNotice({ kind: "alert", text: SESSION_EXPIRED, path: "/login" });
        navigate(next ? `/login?next=${encodeURIComponent(next)}` : "/login", { replace: true });
      }),
    [api, navigate],
  );

  // Guard: signed-out visitors go to sign-in (and come back after), signed-in ones skip it.
  useEffect(() => {
    if (boot.kind !== "ready") return;
    if (!user && !route.public) {
      navigate(`/login?next=${encodeURIComponent(location.path + location.search)}`, { replace: true });
    } else if (user && SIGNED_OUT_ONLY.has(route.name)) {
      navigate("/", { replace: true });
    }
  }, [boot.kind, user, route.name, route.public, location.path, location.search, navigate]);

  // A notice belongs to one page: drop it once the user moves elsewhere.
  useEffect(() => {
    setNotice((current) => (current && current.path !== location.path ? null : current));
  }, [location.path]);

  async function signOut() {
    try {
      await api.auth.logout();
    } finally {
      setNotice({ kind: "status", text: "You have signed out.", path: "/login" });
      navigate("/login", { replace: false });
    }
  }

  const session = useMemo(() => ({ user, notify: setNotice }), [user]);

  return (
    <SessionContext.Provider value={session}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <nav aria-label="Main" className="site-nav">
          <Link to="/" className="brand">
            Newsroom
          </Link>
          {user && (
            <ul>
              <li>
                <Link to="/" aria-current={route.name === "articles" ? "page" : undefined}>
                  Articles
                </Link>
              </li>
              <li>
                <Link to="/new" aria-current={route.name === "new" ? "page" : undefined}>
                  New article
                </Link>
              </li>
              <li>
                <Link to="/account" aria-current={route.name === "account" ? "page" : undefined}>
                  Your account
                </Link>
              </li>
            </ul>
          )}
        </nav>
        {user && (
          <div className="account">
            <span>
              Signed in as <strong>{user.username}</strong>
            </span>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" className="content">
        {notice && notice.path === location.path && (
          <div role={notice.kind} className={`notice notice-${notice.kind}`}>
            {notice.text}
          </div>
        )}
        <Body
          boot={boot}
          user={user}
          route={route}
          retry={start}
          locationKey={location.key}
          // A page's code refused (401 once the session is gone): ask the server, which lets the
          // client report an expired session like any other call would.
          onPageError={() => void api.start().catch(() => undefined)}
        />
      </main>
    </SessionContext.Provider>
  );
}

function Body({
  boot,
  user,
  route,
  retry,
  locationKey,
  onPageError,
}: {
  boot: Boot;
  user: User | null;
  route: Route;
  retry: () => void;
  locationKey: number;
  onPageError: () => void;
}) {
  if (boot.kind === "starting") {
    return (
      <p className="loading" aria-live="polite">
        Loading…
      </p>
    );
  }
  if (boot.kind === "unreachable") {
    return (
      <div role="alert" className="form-alert">
        <h1>The server could not be reached</h1>
        <p>Check your connection and try again.</p>
        <button type="button" onClick={retry}>
          Try again
        </button>
      </div>
    );
  }
  if (!user && !route.public) return null; // the guard is redirecting
  return (
    <ErrorBoundary key={locationKey} onError={onPageError}>
      <Suspense
        fallback={
          <p className="loading" aria-live="polite">
            Loading…
          </p>
        }
      >
        {route.page()}
      </Suspense>
    </ErrorBoundary>
  );
}
