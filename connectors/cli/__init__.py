"""The `coach` command: an edge like the chat connectors and the web admin, it calls the core and renders for a
terminal (it also starts the app server and the worker, so it lives beside them, outside the core)."""
