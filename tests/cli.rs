//! End-to-end tests: the real binaries against the sandbox (a faithful local
//! Mode API and ingest endpoint) and against Mode's recorded responses.
//! One integration-test binary; cases live in `cases/`, helpers in `support/`.

mod cases;
mod support;
