"""How the operator's and the repository's validation sections combine."""

import pytest

from aither_assets.config.errors import ConfigError
from aither_assets.config.pipeline import parse_pipeline_config
from aither_assets.config.validation import OperatorValidationConfig, RepoValidationConfig
from aither_assets.validation.policy import Policy, effective_policy
from aither_assets_tests.validation.helpers import MINIMAL_CONFIG


def test_defaults_block_high_severity_high_confidence_only():
    policy = effective_policy(None, None)
    assert policy.classify("template-injection", "high", "high") == "error"
    assert policy.classify("dangerous-triggers", "high", "medium") == "warning"
    assert policy.classify("excessive-permissions", "medium", "high") == "warning"
    assert policy.classify("self-repository", "low", "high") == "info"
    assert policy.classify("unpinned-uses", "high", "high") == "warning"  # the operator default's warn list
    assert policy.default_permissions == "restricted" and policy.notes == ()


def test_repository_may_only_tighten_thresholds():
    stricter = effective_policy(None, RepoValidationConfig(block_severity="medium", block_confidence="medium"))
    assert stricter.classify("dangerous-triggers", "high", "medium") == "error"
    operator = OperatorValidationConfig(block_severity="medium", block_confidence="low")
    laxer = effective_policy(operator, RepoValidationConfig(block_severity="high", block_confidence="high"))
    assert (laxer.block_severity, laxer.block_confidence) == ("medium", "low")
    assert [name for name, _ in laxer.notes] == ["block_severity", "block_confidence"]
    assert all("laxer than the operator's" in note for _, note in laxer.notes)


def test_relaxing_needs_the_operators_leave_and_operator_block_always_wins():
    operator = OperatorValidationConfig(repo_may_relax=("artipacked", "template-injection"),
                                        block=("template-injection",))
    policy = effective_policy(operator, RepoValidationConfig(warn=("artipacked", "template-injection", "cache-poisoning")))
    assert policy.classify("artipacked", "high", "high") == "warning"
    assert policy.classify("template-injection", "low", "low") == "error"
    assert policy.classify("cache-poisoning", "high", "high") == "error"
    assert "cache-poisoning, template-injection not relaxed" in policy.notes[0][1]


def test_repository_may_ask_to_block_what_the_operator_only_warns():
    policy = effective_policy(None, RepoValidationConfig(block=("unpinned-uses",)))
    assert policy.classify("unpinned-uses", "high", "high") == "error"


def test_default_permissions_operator_first():
    assert effective_policy(None, RepoValidationConfig(default_permissions="permissive")).default_permissions == \
        "permissive"
    assert effective_policy(OperatorValidationConfig(default_permissions="restricted"),
                            RepoValidationConfig(default_permissions="permissive")).default_permissions == "restricted"
    assert Policy().default_permissions == "restricted"


@pytest.mark.parametrize(("section", "message"), [
    ("  default_permissions: open\n", "validation.default_permissions"),
    ("  block: ['Not An Audit']\n", "must be an audit name"),
    ("  repo_may_relax: [x]\n", "validation.repo_may_relax"),  # an operator field: the repo cannot set it
])
def test_repo_section_is_strict(section, message):
    with pytest.raises(ConfigError) as err:
        parse_pipeline_config(MINIMAL_CONFIG + "validation:\n" + section)
    assert message in str(err.value)
