"""unit_tests, domain_tests, integration_tests: the repo's declared suites, run in parallel."""
