"""Request and response bodies, one module per resource; request models refuse unknown fields."""
