import { Component, type ReactNode } from "react";

interface Props {
  children: ReactNode;
  /** Called once when a page fails, e.g. to check whether the session ended meanwhile. */
  onError?: (error: unknown) => void;
}

/** When a page cannot load (its code chunk refused after a sign-out, a network error), say so. */
export class ErrorBoundary extends Component<Props, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override componentDidCatch(error: unknown) {
    this.props.onError?.(error);
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div role="alert" className="form-alert">
        <h1>This page could not be loaded</h1>
        <p>
          Check your connection, then <a href={window.location.href}>reload the page</a>.
        </p>
      </div>
    );
  }
}
