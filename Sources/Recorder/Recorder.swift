// The recorder; see docs/architecture.md.
