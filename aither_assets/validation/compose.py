"""Check 5: the Docker Compose file, parsed and checked against the spec's core structure.

The structure is checked here on the YAML node tree (so every finding has a line), for the
subset that breaks ``docker compose up`` most often: ``services``, ``image``/``build``,
``ports`` and ``depends_on``. When the ``docker compose`` plugin is installed, its own
``config --quiet`` runs as well; it is optional, so its absence is only noted in ``tools``.
"""

from __future__ import annotations

import ipaddress
import re

import yaml

from aither_assets.config.pipeline import PipelineConfig
from aither_assets.validation.config import referenced_file
from aither_assets.validation.findings import Finding, make, tail
from aither_assets.validation.repo import Repo
from aither_assets.validation.tools import (
    ToolFailure,
    ToolRunner,
    ToolStatus,
    tool_error,
)
from aither_assets.validation.yamlnodes import (
    ParsedYaml,
    elements,
    get,
    has,
    items,
    line,
    scalar,
)

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
TOP_LEVEL = frozenset({"version", "name", "services", "networks", "volumes", "configs", "secrets", "include", "models"})
PORT_KEYS = frozenset({"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"})
PROTOCOLS = frozenset({"tcp", "udp", "sctp"})
CONDITIONS = frozenset({"service_started", "service_healthy", "service_completed_successfully"})
_PORTS = re.compile(r"^(\d+)(?:-(\d+))?$")


def compose_path(repo: Repo, config: PipelineConfig | None) -> tuple[str | None, list[Finding]]:
    return referenced_file(repo, config, "compose", DEFAULT_FILES)


def check_compose(repo: Repo, config: PipelineConfig | None, runner: ToolRunner, docker: ToolStatus) -> list[Finding]:
    rel, findings = compose_path(repo, config)
    if rel is None:
        return findings
    parsed = repo.yaml(rel)
    if isinstance(parsed, Finding):
        return [*findings, parsed]
    findings += validate_compose(parsed)
    if docker.version and docker.path:
        findings += run_compose_config(runner, docker.path, rel, parsed)
    return findings


# -- structure ------------------------------------------------------------------------------
def validate_compose(parsed: ParsedYaml) -> list[Finding]:
    rel, doc = parsed.rel, parsed.first
    if not isinstance(doc, yaml.MappingNode):
        return [make(rel, line(doc) or 1, "compose-structure", "error",
                     "a compose file must be a mapping with `services:`")]
    out = [make(rel, line(key), "compose-unknown-key", "warning", f"unknown top-level key `{name}`")
           for name, key, _ in items(doc) if name not in TOP_LEVEL and not name.startswith("x-")]
    services = get(doc, "services")
    if not isinstance(services, yaml.MappingNode) or not services.value:
        if not has(doc, "include"):  # services may all come from included files
            out.append(make(rel, line(services) or 1, "compose-structure", "error",
                            "`services:` must be a mapping with at least one service"))
        return out
    names = {name for name, _, _ in items(services)}
    for name, key, service in items(services):
        out += _check_service(rel, name, key, service, names)
    return out


def _check_service(rel: str, name: str, key: yaml.Node, service: yaml.Node, names: set[str]) -> list[Finding]:
    if not isinstance(service, yaml.MappingNode):
        return [make(rel, line(key), "compose-service", "error", f"service `{name}` must be a mapping")]
    out = []
    if not any(has(service, k) for k in ("image", "build", "extends")):
        out.append(make(rel, line(key), "compose-service", "error",
                        f"service `{name}` has neither `image:` nor `build:`: there is nothing to run"))
    ports = get(service, "ports")
    if ports is not None and not isinstance(ports, yaml.SequenceNode):
        out.append(make(rel, line(ports), "compose-ports", "error", f"service `{name}`: `ports:` must be a list"))
    for entry in ports.value if isinstance(ports, yaml.SequenceNode) else []:
        problem = port_problem(entry)
        if problem:
            out.append(make(rel, line(entry), "compose-ports", "error", f"service `{name}`: {problem}"))
    out += _check_depends_on(rel, name, get(service, "depends_on"), names)
    return out


def _check_depends_on(rel: str, name: str, node: yaml.Node | None, names: set[str]) -> list[Finding]:
    """``depends_on`` is a list of service names or a mapping name -> {condition: ...}."""
    if isinstance(node, yaml.MappingNode):
        refs = [(dep, key) for dep, key, _ in items(node)]
        conditions = [(dep, get(spec, "condition")) for dep, _, spec in items(node)]
    else:
        refs = [(scalar(n) or "", n) for n in elements(node)]
        conditions = []
    out = [make(rel, line(key), "compose-depends-on", "error", f"service `{name}` depends on unknown service `{dep}`")
           for dep, key in refs if dep not in names]
    out += [make(rel, line(cond), "compose-depends-on", "error",
                 f"service `{name}`: depends_on `{dep}` has unknown condition `{scalar(cond)}`")
            for dep, cond in conditions if cond is not None and scalar(cond) not in CONDITIONS]
    return out


def port_problem(node: yaml.Node) -> str | None:
    """Why a ``ports:`` entry is malformed, or None when it is well-formed (or dynamic)."""
    if isinstance(node, yaml.MappingNode):
        return _long_port_problem(node)
    text = scalar(node)
    if text is None:
        return "a port must be a string like \"8080:80\" or a mapping with `target:`"
    if "$" in text:
        return None  # interpolated from the environment at `up` time
    return _short_port_problem(text.strip())


def _short_port_problem(text: str) -> str | None:
    # [HOST_IP:][HOST_PORT[-RANGE]:]CONTAINER_PORT[-RANGE][/PROTOCOL]; IPv6 hosts are in brackets.
    body, _, protocol = text.partition("/")
    if protocol and protocol not in PROTOCOLS:
        return f"port `{text}`: unknown protocol `{protocol}`"
    host_ip = None
    if body.startswith("["):
        host_ip, _, body = body[1:].partition("]")
        body = body[1:] if body.startswith(":") else "!"
    parts = body.split(":")
    if len(parts) == 3 and host_ip is None:
        host_ip = parts.pop(0)
    if len(parts) > 2 or not parts[-1]:
        return f"port `{text}` is not [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]"
    if host_ip is not None and not _is_ip(host_ip):
        return f"port `{text}`: `{host_ip}` is not an IP address"
    if len(parts) == 2 and parts[0] and not _valid_ports(parts[0], allow_zero=True):
        return f"port `{text}`: host port `{parts[0]}` is not a port or range in 0-65535"
    if not _valid_ports(parts[-1]):
        return f"port `{text}`: container port `{parts[-1]}` is not a port or range in 1-65535"
    return None


def _long_port_problem(node: yaml.MappingNode) -> str | None:
    unknown = [k for k, _, _ in items(node) if k not in PORT_KEYS and not k.startswith("x-")]
    if unknown:
        return f"unknown port field(s) {', '.join(f'`{k}`' for k in unknown)}"
    target = scalar(get(node, "target"))
    if target is None or not _valid_ports(target, ranges=False):
        return "long-syntax port needs `target:` (a container port 1-65535)"
    published = scalar(get(node, "published"))
    if published and "$" not in published and not _valid_ports(published, allow_zero=True):
        return f"`published: {published}` is not a port or range"
    protocol = scalar(get(node, "protocol"))
    if protocol is not None and protocol not in PROTOCOLS:
        return f"unknown protocol `{protocol}`"
    host_ip = scalar(get(node, "host_ip"))
    if host_ip is not None and not _is_ip(host_ip):
        return f"`host_ip: {host_ip}` is not an IP address"
    mode = scalar(get(node, "mode"))
    if mode is not None and mode not in ("host", "ingress"):
        return f"`mode: {mode}` must be host or ingress"
    return None


def _valid_ports(text: str, allow_zero: bool = False, ranges: bool = True) -> bool:
    match = _PORTS.match(text)
    if not match or (match[2] and not ranges):
        return False
    low = int(match[1])
    high = int(match[2]) if match[2] else low
    return (0 if allow_zero else 1) <= low <= high <= 65535


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# -- docker compose config (optional) ------------------------------------------------------
def run_compose_config(runner: ToolRunner, docker: str, rel: str, parsed: ParsedYaml) -> list[Finding]:
    if has(parsed.first, "include"):
        # `include:` may name remote git/OCI resources: the CLI would fetch them.
        return [make(rel, line(get(parsed.first, "include")), "compose-cli-skipped", "info",
                     "`docker compose config` not run: the file has `include:` (may fetch remote files)",
                     tool="docker compose")]
    argv = [docker, "compose", "--project-name", "aither-validate", f"--file={rel}",
            "config", "--quiet", "--no-interpolate"]
    try:
        result = runner.run(argv)
    except ToolFailure as exc:
        return [tool_error("docker compose", rel, str(exc))]
    if result.returncode == 0:
        return []
    return [make(rel, None, "compose-config", "error", f"docker compose config: {tail(result.stderr or result.stdout)}",
                 tool="docker compose")]
