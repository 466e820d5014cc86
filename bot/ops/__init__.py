"""Running Footnote as a service: structured logs (and, later, health and metrics)."""
