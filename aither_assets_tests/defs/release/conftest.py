"""The session registry of the image tests, for the promotion tests that push images; the promotion tests'
stack (a real instance and the local GitHub) and pushed sample images, for the recovery tests too."""

from aither_assets_tests.defs.release.test_ring_assets import pushed, stack  # noqa: F401 - fixtures
from aither_assets_tests.images.conftest import local_registry  # noqa: F401 - a fixture
