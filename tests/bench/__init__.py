"""The benchmark (`make bench`): a real server under wrk, ratios to a floor. Not a suite."""
