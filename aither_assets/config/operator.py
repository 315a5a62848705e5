"""Operator configuration: trusted, lives with the Dagster deployment (path in AITHER_CONFIG).

It says which repository we serve, how to reach GitHub and the registry (by naming
the environment variables that hold secrets, never the secrets themselves), where
artifacts and pages go, how base branches map to rings, and which PRs to run.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Annotated, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aither_assets.config.errors import ConfigError, ConfigIssue
from aither_assets.config.fields import matching
from aither_assets.config.freeze import FreezeConfig
from aither_assets.config.loading import load_yaml_file, validate_model
from aither_assets.config.validation import OperatorValidationConfig

CONFIG_ENV_VAR = "AITHER_CONFIG"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REPO = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_RING = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")

EnvVarName = Annotated[str, matching(_ENV_NAME.pattern, "must be an environment variable name, e.g. GITHUB_TOKEN")]
RingName = Annotated[str, matching(_RING.pattern,
                                   "must be 1-31 of a-z 0-9 - starting with a letter or digit, e.g. ring-0")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GitHubAppConfig(_Strict):
    """A GitHub App installation: needed for check runs, which personal tokens cannot create."""

    app_id: int = Field(gt=0)
    installation_id: int = Field(gt=0)
    private_key_env: EnvVarName


class GitHubConfig(_Strict):
    api_url: str = "https://api.github.com"
    token_env: EnvVarName = "GITHUB_TOKEN"
    app: GitHubAppConfig | None = None
    # The secret GitHub signs webhook deliveries with (`aither webhooks` refuses to start without it).
    webhook_secret_env: EnvVarName = "AITHER_WEBHOOK_SECRET"
    # GitHub asks integrations to space out writes to avoid secondary rate limits.
    seconds_between_writes: float = Field(default=0.25, ge=0, le=10)

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.github.com")
        return value.rstrip("/")


class RegistryConfig(_Strict):
    address: str = "127.0.0.1:5000"
    username_env: EnvVarName | None = None
    password_env: EnvVarName | None = None
    insecure: bool = False

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9.-]+(:\d{1,5})?(/[a-z0-9._/-]+)?$", value):
            raise ValueError("must be host[:port][/namespace], e.g. ghcr.io/acme or 127.0.0.1:5000")
        return value

    @model_validator(mode="after")
    def _both_or_neither(self) -> "RegistryConfig":
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env go together: set both or neither")
        return self


class ImagesConfig(_Strict):
    """Build settings the operator controls (the repo's Dockerfile says the rest)."""

    # Passed as the BASE_IMAGE build arg per platform: lets an air-gapped builder use local bases.
    base_images: dict[Literal["linux/amd64", "linux/arm64"], str] = {}
    build_timeout_seconds: float = Field(default=900, gt=0)


#: The runner image the sample app and the demo use (aither_assets/devstack/runnerimage.py builds it).
DEFAULT_RUNNER_IMAGE = "aither/sandbox-runner:3.11-bookworm"


class SandboxConfig(_Strict):
    """How PR-controlled commands (suites, linters) are confined: see aither_assets/sandbox/."""

    runner_images: tuple[str, ...] = Field(default=(DEFAULT_RUNNER_IMAGE,), min_length=1,
                                           description="images a repo config may name for its commands")
    default_runner_image: str = DEFAULT_RUNNER_IMAGE
    memory_mb: int = Field(default=1024, ge=64, description="RAM per command, tmpfs pages included; no swap")
    cpus: float = Field(default=1.0, gt=0, le=64)
    pids: int = Field(default=256, ge=16, description="processes and threads per command")
    disk_mb: int = Field(default=256, ge=8, description="the working folder: a tmpfs of this size")
    tmp_mb: int = Field(default=64, ge=8, description="/tmp: a tmpfs of this size")
    allow_network: bool = Field(default=True, description="suites may opt in to the isolated network")
    build_network: Literal["none", "default"] = Field(
        default="none", description="network of PR Dockerfile builds; 'default' lets RUN steps reach out")

    @model_validator(mode="after")
    def _default_listed(self) -> "SandboxConfig":
        if self.default_runner_image not in self.runner_images:
            raise ValueError(f"default_runner_image {self.default_runner_image!r} is not in runner_images "
                             f"{list(self.runner_images)}")
        return self


class StorageConfig(_Strict):
    root: Path = Path(".aither")
    artifacts_dir: Path | None = None
    pages_dir: Path | None = None
    workspaces_dir: Path | None = None
    # Production profile: the environment variable holding a PostgreSQL URL (it carries a password).
    # The tables every process shares (head claims, preview ports) then live there, not in files under root.
    state_postgres_url_env: EnvVarName | None = None

    @property
    def artifacts(self) -> Path:
        return self.artifacts_dir or self.root / "artifacts"

    @property
    def pages(self) -> Path:
        return self.pages_dir or self.root / "pages"

    @property
    def workspaces(self) -> Path:
        return self.workspaces_dir or self.root / "workspaces"


class BranchRing(_Strict):
    branch: str = Field(min_length=1, description="base branch name or glob, e.g. ring-0*")
    ring: RingName


DEFAULT_LADDER = ("dev", "staging", "ring-0", "ring-1", "ring-2", "production")
DEFAULT_ENTRY = (
    BranchRing(branch="main", ring="production"),
    BranchRing(branch="dev-staging", ring="staging"),
    BranchRing(branch="dev", ring="dev"),
    BranchRing(branch="develop", ring="dev"),
    BranchRing(branch="ring-0*", ring="ring-0"),
    BranchRing(branch="ring-1*", ring="ring-1"),
    BranchRing(branch="ring-2*", ring="ring-2"),
)


PermissionLevel = Literal["write", "maintain", "admin"]


class RingPolicy(_Strict):
    """The gates and the environment of one ring (aither_assets/promotion/gates.py reads the gates)."""

    port: int | None = Field(default=None, ge=1024, le=65535,
                             description="host port of the ring's environment; default: port_base + its ladder index")
    soak_seconds: float = Field(default=0, ge=0, description="time the digest must have run in the ring below")
    approvals: int = Field(default=1, ge=0, le=20, description="distinct approvals for this ring and digest")
    approver_permission: PermissionLevel = "write"
    require_merged: bool | None = Field(default=None, description="default: true for the top ring only")
    # Where the post-deploy verification checks come from: the repo's smoke checks at the PR head, or none
    # (health check only).
    verification: Literal["repo_smoke", "health_only"] = "repo_smoke"
    # Opt-in: a sensor promotes the newest eligible build once every gate passes (requester: the policy).
    auto_promote: bool = False
    reverify_seconds: float = Field(
        default=0, ge=0, description="re-run the verification of what is live every this many seconds; 0: never")


# Defaults for the default ladder: the low rings take anything that passed its pipeline, canary and
# beyond need a second person, the later rings a soak in the ring below, production a merged PR.
DEFAULT_POLICIES: dict[str, RingPolicy] = {
    "dev": RingPolicy(approvals=0),
    "staging": RingPolicy(approvals=0),
    "ring-0": RingPolicy(approvals=1),
    "ring-1": RingPolicy(approvals=1, soak_seconds=3600),
    "ring-2": RingPolicy(approvals=1, soak_seconds=3600),
    "production": RingPolicy(approvals=1, soak_seconds=3600),
}


class RingsConfig(_Strict):
    """Where a PR enters (from its **base** branch), the promotion ladder and each ring's policy."""

    entry: tuple[BranchRing, ...] = DEFAULT_ENTRY
    ladder: tuple[RingName, ...] = DEFAULT_LADDER
    policies: dict[RingName, RingPolicy] = Field(
        default_factory=dict, description="per ring; a ring not named gets DEFAULT_POLICIES or RingPolicy()")
    port_base: int = Field(default=19100, ge=1024, le=65000)
    host: str = "127.0.0.1"
    freeze: FreezeConfig = FreezeConfig()

    @model_validator(mode="after")
    def _entry_rings_on_ladder(self) -> "RingsConfig":
        if len(set(self.ladder)) != len(self.ladder):
            raise ValueError(f"ladder names a ring twice: {list(self.ladder)}")
        unknown = [e.ring for e in self.entry if e.ring not in self.ladder]
        if unknown:
            raise ValueError(f"entry rings {unknown} are not on the ladder {list(self.ladder)}")
        stray = [name for name in self.policies if name not in self.ladder]
        if stray:
            raise ValueError(f"policies name rings {stray} that are not on the ladder {list(self.ladder)}")
        stray = [name for name in self.freeze.rings if name not in self.ladder]
        if stray:
            raise ValueError(f"freeze names rings {stray} that are not on the ladder {list(self.ladder)}")
        ports = [self.port(name) for name in self.ladder]
        if len(set(ports)) != len(ports):
            raise ValueError(f"two rings share a port: {dict(zip(self.ladder, ports, strict=True))}")
        return self

    def policy(self, ring: str) -> RingPolicy:
        """The ring's policy, require_merged resolved (default: only the top ring requires a merged PR)."""
        policy = self.policies.get(ring) or DEFAULT_POLICIES.get(ring) or RingPolicy()
        if policy.require_merged is None:
            policy = policy.model_copy(update={"require_merged": ring == self.ladder[-1]})
        return policy

    def port(self, ring: str) -> int:
        explicit = (self.policies.get(ring) or RingPolicy()).port
        return explicit if explicit is not None else self.port_base + self.ladder.index(ring)

    def below(self, ring: str) -> str | None:
        """The ring under ``ring`` on the ladder (None for the lowest)."""
        index = self.ladder.index(ring)
        return self.ladder[index - 1] if index > 0 else None

    def entry_ring(self, base_ref: str) -> str | None:
        """The ring a PR enters, from its base branch; first matching rule wins."""
        for rule in self.entry:
            if fnmatch.fnmatchcase(base_ref, rule.branch):
                return rule.ring
        return None


class PreviewConfig(_Strict):
    port_range: tuple[int, int] = (20000, 20999)
    ttl_hours: float = Field(default=72, gt=0)
    host: str = "127.0.0.1"

    @field_validator("port_range")
    @classmethod
    def _ports(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not (1024 <= low <= high <= 65535):
            raise ValueError("must be [low, high] with 1024 <= low <= high <= 65535")
        return value


class PRFilters(_Strict):
    skip_drafts: bool = True
    include_labels: tuple[str, ...] = ()
    exclude_labels: tuple[str, ...] = ()
    target_branches: tuple[str, ...] = Field(default=(), description="base branch globs; empty means any")
    fork_approval_label: str = "ok-to-test"


class PagesConfig(_Strict):
    """Where dashboards are published and linked from (PR comments, statuses)."""

    base_url: str | None = Field(default=None, description="URL the pages folder is served at, for links")
    gh_pages: bool = Field(default=False, description="also commit pages to the repository's gh-pages branch")
    branch: str = "gh-pages"


class OperatorConfig(_Strict):
    repository: str = Field(description="owner/name of the one repository this deployment serves")
    app_name: Annotated[
        str,
        matching(r"^[a-z0-9][a-z0-9-]{0,30}$", "must be 1-31 of a-z 0-9 - starting with a letter or digit, e.g. web"),
    ] | None = Field(
        default=None, description="names images and containers <app>-pr-<N>; defaults to the repository name")
    github: GitHubConfig = GitHubConfig()
    registry: RegistryConfig = RegistryConfig()
    images: ImagesConfig = ImagesConfig()
    sandbox: SandboxConfig = SandboxConfig()
    storage: StorageConfig = StorageConfig()
    rings: RingsConfig = RingsConfig()
    preview: PreviewConfig = PreviewConfig()
    pr_filters: PRFilters = PRFilters()
    pages: PagesConfig = PagesConfig()
    validation: OperatorValidationConfig = OperatorValidationConfig()
    dagster_ui_url: str = Field(default="http://127.0.0.1:3000", description="for links to runs and assets")

    @field_validator("repository")
    @classmethod
    def _owner_name(cls, value: str) -> str:
        if not _REPO.match(value):
            raise ValueError("must be owner/name, e.g. acme/web")
        return value

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def repo_name(self) -> str:
        return self.repository.split("/", 1)[1]

    @property
    def app(self) -> str:
        """Names images and preview containers; the operator's, not the PR's, so a PR cannot rename them."""
        return self.app_name or re.sub(r"[^a-z0-9-]+", "-", self.repo_name.lower()).strip("-")[:31] or "app"

    def registry_auth(self, environ: Mapping[str, str]) -> dict[str, str] | None:
        """Registry credentials from the environment variables the config names (None: anonymous)."""
        reg = self.registry
        if reg.username_env is None or reg.password_env is None:
            return None
        missing = [name for name in (reg.username_env, reg.password_env) if not environ.get(name)]
        if missing:
            raise ValueError(f"registry credentials: environment variable(s) {missing} are not set")
        return {"username": environ[reg.username_env], "password": environ[reg.password_env]}

    def state_postgres_url(self, environ: Mapping[str, str]) -> str | None:
        """The PostgreSQL URL of the shared tables (None: SQLite files under the storage root)."""
        name = self.storage.state_postgres_url_env
        if name is None:
            return None
        if not environ.get(name):
            raise ValueError(f"storage.state_postgres_url_env: environment variable {name} is not set")
        return environ[name]

    def secret_values(self, environ: Mapping[str, str]) -> tuple[str, ...]:
        """The values of every secret the config names, as set in ``environ`` (to scrub PR output)."""
        names = [self.github.token_env, self.github.webhook_secret_env, self.registry.username_env,
                 self.registry.password_env, self.github.app.private_key_env if self.github.app else None,
                 self.storage.state_postgres_url_env]  # the database URL may carry a password
        return tuple(sorted({environ[n] for n in names if n and len(environ.get(n, "")) >= 8}))

    def resolve_paths(self, base: Path) -> "OperatorConfig":
        """Relative storage paths are relative to the config file, not the current directory."""
        storage = self.storage
        fixed = {
            name: (base / value if isinstance(value, Path) and not value.is_absolute() else value)
            for name, value in storage.model_dump().items()
        }
        return self.model_copy(update={"storage": StorageConfig(**fixed)})


def load_operator_config(path: str | os.PathLike[str] | None = None) -> OperatorConfig:
    """Load and validate the operator config; ``path`` defaults to $AITHER_CONFIG."""
    if path is None:
        path = os.environ.get(CONFIG_ENV_VAR)
        if not path:
            raise ConfigError([ConfigIssue(f"${CONFIG_ENV_VAR}", "", "not set: point it at the operator config YAML")])
    file = Path(path)
    data, node = load_yaml_file(file)
    config: OperatorConfig = validate_model(OperatorConfig, data, str(file), node)
    return config.resolve_paths(file.resolve().parent)

