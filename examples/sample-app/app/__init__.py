"""sample-app: a small stdlib-only web service used to exercise the aither pipeline.

Run it with ``python3 -m app``; settings come from the environment (see ``app.config``).
"""

__version__ = "1.0.0"
APP_NAME = "sample-app"
