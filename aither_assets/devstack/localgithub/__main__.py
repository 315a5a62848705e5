"""`python -m aither_assets.devstack.localgithub ...` == `aither local-github ...`."""

from .cli import local_github

if __name__ == "__main__":
    local_github(prog_name="aither local-github")
