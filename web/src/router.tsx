// A tiny client-side router for the few routes under /app/: the History API, a Link that
// intercepts plain left clicks, and a location key that changes on every navigation (pages
// move focus to their heading when it changes).
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from "react";

/** "/app" in the build (Vite's `base`), so app paths like "/articles/1" live at /app/articles/1. */
export const BASE = import.meta.env.BASE_URL.replace(/\/+$/, "");

export interface AppLocation {
  /** The path inside the app, always starting with "/" ("/" is the article list). */
  path: string;
  search: string;
  /** 0 on the first page load, then +1 on every navigation. */
  key: number;
}

interface RouterValue {
  location: AppLocation;
  navigate: (to: string, options?: { replace?: boolean }) => void;
}

const RouterContext = createContext<RouterValue | null>(null);

export function href(to: string): string {
  return BASE + to;
}

function readLocation(key: number): AppLocation {
  const { pathname, search } = window.location;
  let path = pathname;
  if (pathname === BASE) path = "/";
  else if (BASE && pathname.startsWith(BASE + "/")) path = pathname.slice(BASE.length);
  return { path, search, key };
}

/** Where the browser is now, as an app path with its query ("/articles/1?x=y"). */
export function currentAppPath(): string {
  const { path, search } = readLocation(0);
  return path + search;
}

export function Router({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState<AppLocation>(() => readLocation(0));

  useEffect(() => {
    const onPopState = () =>
      setLocation((previous) => {
        const next = readLocation(previous.key + 1);
        // A change of hash only (the skip link) is not a navigation.
        return next.path === previous.path && next.search === previous.search ? previous : next;
      });
    window.addEventListener("popstate", onPopState);
    return () => window.removeEventListener("popstate", onPopState);
  }, []);

  const navigate = useCallback((to: string, options: { replace?: boolean } = {}) => {
    if (options.replace) window.history.replaceState(null, "", href(to));
    else window.history.pushState(null, "", href(to));
    setLocation((previous) => readLocation(previous.key + 1));
  }, []);

  const value = useMemo(() => ({ location, navigate }), [location, navigate]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter(): RouterValue {
  const value = useContext(RouterContext);
  if (!value) throw new Error("useRouter outside <Router>");
  return value;
}

export function useSearchParams(): URLSearchParams {
  const { location } = useRouter();
  return useMemo(() => new URLSearchParams(location.search), [location.search]);
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & { to: string };

/** An ordinary link (right click, middle click, ctrl+click all work) that navigates in-app. */
export function Link({ to, onClick, target, ...rest }: LinkProps) {
  const { navigate } = useRouter();
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      (target && target !== "_self") ||
      event.metaKey ||
      event.altKey ||
      event.ctrlKey ||
      event.shiftKey
    ) {
      return;
    }
    event.preventDefault();
    navigate(to);
  };
  return <a href={href(to)} target={target} onClick={handleClick} {...rest} />;
}

/** A `next` target after sign-in: only a path inside the app, never another site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return "/";
  if (next === "/login" || next.startsWith("/login?") || next.startsWith("/login/") || next.startsWith("/register")) {
    return "/";
  }
  return next;
}
