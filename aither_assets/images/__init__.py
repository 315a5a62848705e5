"""Container images the pipeline needs locally, built without pulling from any registry.

``aither_assets.images.base`` builds the minimal Python base image that the sample
application (and any stdlib-only Python service) runs on.
"""
