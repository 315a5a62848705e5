"""The session registry of the image tests, for the promotion tests that push images."""

from aither_assets_tests.images.conftest import local_registry  # noqa: F401 - a fixture
