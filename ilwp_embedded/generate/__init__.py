"""Generate: C sources for a graph (schedule, memory plan, constants, blob) from Jinja2 templates."""
