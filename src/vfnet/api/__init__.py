"""The HTTP API: the only code that knows status codes."""
