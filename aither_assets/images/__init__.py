"""Container images of a PR head: build (``build.py``), registry (``registry.py``), tags (``tags.py``),
and what the host's Docker engine can do (``host.py``). Base images come in by reference
(operator config ``images.base_images``); ``aither base-image`` builds the local ones.
"""
