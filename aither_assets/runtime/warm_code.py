"""Imported once by the run launcher's forkserver (runtime/run_launcher.py): the code location's modules.

Loading the Definitions once here imports every module under defs/ and what they import, so a forked
run worker finds them loaded and only builds its Definitions again (under 0.1 s instead of about
0.45 s of each run's start). The launcher restarts the forkserver when a source file changes, so no
run uses code older than its launch.

If loading fails here, nothing more happens: the run worker loads the code location itself and its
run reports the error, as it would without this module.
"""


def load_code_location() -> None:
    try:
        from aither_assets.definitions import defs

        defs()
    except Exception:  # noqa: BLE001 (see the module docstring)
        pass


load_code_location()
