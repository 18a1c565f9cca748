"""Training weave networks on labelled molecules."""
