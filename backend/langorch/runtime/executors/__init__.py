"""runtime/executors layer (see docs/architecture.md)."""
