"""glmtasks plugin: how similar two sentences are, on a 0-5 scale (STS-B style regression)."""
