"""The session registry of the image tests, for the promotion tests that push images; the ring tests'
stack and pushed images, shared by the policy sensor tests."""

from aither_assets_tests.defs.release.test_ring_assets import pushed, stack  # noqa: F401 - fixtures
from aither_assets_tests.images.conftest import local_registry  # noqa: F401 - a fixture
