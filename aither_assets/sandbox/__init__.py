"""Where PR-controlled commands run: one throwaway container each, with nothing of the control plane in reach.

* ``model``: the typed request/result and limits (pure);
* ``protocol``: what goes in (a tree as tar) and comes back (the launcher's report), read as hostile (pure);
* ``launcher``: the container's first process (stdlib only, copied into the runner image);
* ``image``: the default runner image, built locally from Debian packages;
* ``runner``: ``Sandbox``, which drives the Docker engine;
* ``sweep``: removes containers a dead worker left, by label.
"""
