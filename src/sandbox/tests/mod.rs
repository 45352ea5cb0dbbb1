//! HTTP tests against a started sandbox.
