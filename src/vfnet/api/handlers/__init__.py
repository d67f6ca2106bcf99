"""Request handlers, one module per resource: parse, authorize, call the store, render."""
