import { configure } from "@testing-library/dom";

// findBy*/waitFor default to 1 s; a lazily loaded page compiled on first use in a busy CI
// run can take longer. Generous, since a passing test never waits for the whole timeout.
configure({ asyncUtilTimeout: 10_000 });
