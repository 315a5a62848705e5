"""Typed, validated configuration: the operator's (trusted) and the repo's (untrusted)."""

from aither_assets.config.errors import ConfigError, ConfigIssue
from aither_assets.config.operator import OperatorConfig, load_operator_config
from aither_assets.config.pipeline import PIPELINE_PATH, PipelineConfig, load_pipeline_config, parse_pipeline_config

__all__ = [
    "PIPELINE_PATH",
    "ConfigError",
    "ConfigIssue",
    "OperatorConfig",
    "PipelineConfig",
    "load_operator_config",
    "load_pipeline_config",
    "parse_pipeline_config",
]
