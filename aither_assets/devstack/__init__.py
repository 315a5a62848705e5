"""The embedded dev stack, not the product: a local GitHub server (``localgithub/``), the demo
(``demo/``) and the base-image builder (``baseimage.py``). Only the CLI and the tests import it."""
