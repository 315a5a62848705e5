"""The pipeline's stages, in one place (plain data, no Dagster)."""

# Test asset name -> the suite kind it runs from the repo config (tests: unit/domain/integration).
TEST_ASSETS = {"unit_tests": "unit", "domain_tests": "domain", "integration_tests": "integration"}
TEST_ASSET_NAMES = tuple(TEST_ASSETS)
