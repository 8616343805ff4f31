"""scheduling layer (see docs/architecture.md)."""
