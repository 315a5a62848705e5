"""The ``aither`` command: the product's CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aither_assets.config import ConfigError, load_operator_config
from aither_assets.config.pipeline import PIPELINE_PATH, load_pipeline_config, parse_pipeline_config


@click.group()
def main() -> None:
    """aither: per-pull-request CI/CD control plane on Dagster."""


@main.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--operator", is_flag=True, help="PATH is an operator config, not a repository.")
@click.option("--repo", "repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Run the whole validation stage on this checkout (as the pipeline does) and print the findings.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="With --repo: also write the report as JSON.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="AITHER_CONFIG",
              help="With --repo: the operator config whose validation policy applies (default: $AITHER_CONFIG).")
def validate(path: Path | None, operator: bool, repo: Path | None, json_path: Path | None,
             config_path: Path | None) -> None:
    """Check a repository's .aither/pipeline.yaml (PATH: repo root or the file itself).

    Prints one line per problem and exits 1, or prints OK and exits 0. With --repo, runs every
    validation check (config, YAML, workflows, Dockerfile, compose, zizmor) and exits 1 when a
    finding blocks.
    """
    if repo is not None:
        if path is not None or operator:
            raise click.UsageError("--repo takes the checkout itself: no PATH or --operator with it")
        sys.exit(_validate_repo(repo, json_path, config_path))
    if path is None:
        raise click.UsageError("give PATH (a repository or config file) or --repo CHECKOUT")
    if json_path is not None:
        raise click.UsageError("--json goes with --repo")
    try:
        if operator:
            load_operator_config(path)
        elif path.is_dir():
            load_pipeline_config(path)
        else:
            parse_pipeline_config(path.read_text(encoding="utf-8"), label=str(path))
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        sys.exit(1)
    click.echo(f"OK: {path if operator or not path.is_dir() else path / PIPELINE_PATH}")


def _validate_repo(repo: Path, json_path: Path | None, config_path: Path | None) -> int:
    import json

    from aither_assets.validation.report import blocking, text_table, validate_checkout

    try:
        policy = load_operator_config(config_path).validation if config_path else None
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        return 2
    report = validate_checkout(repo, policy)
    click.echo(text_table(report))
    if json_path is not None:
        json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    return 1 if blocking(report) else 0


@main.command()
@click.option("--once", is_flag=True, help="Headless: process every sample PR, write --json, stop everything.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".aither-demo"),
              show_default=True, help="Folder for the local GitHub, registry, Dagster instance and artifacts.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Summary file (--once).")
@click.option("--reset", is_flag=True, help="Wipe --data first and seed the sample PRs again.")
@click.option("--port", "ui_port", default=3000, show_default=True, help="Dagster UI port (interactive).")
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds --once waits for the runs.")
@click.option("--profile", type=click.Choice(["embedded", "production"]), default="embedded", show_default=True,
              help="embedded: SQLite, runs forked in the daemon. production: PostgreSQL, a code image, one container "
                   "per run (DockerRunLauncher), webserver and daemon as separate processes.")
@click.option("--teardown", is_flag=True, help="Only remove the preview containers a demo on --data left running.")
def demo(once: bool, data_dir: Path, json_path: Path | None, reset: bool, ui_port: int, timeout: float,
         profile: str, teardown: bool) -> None:
    """Run the product on one machine: local GitHub with sample PRs, a registry, Dagster."""
    from aither_assets.devstack.baseimage import BaseImageError
    from aither_assets.devstack.codeimage import CodeImageError
    from aither_assets.devstack.demo.run import run_interactive, run_once
    from aither_assets.devstack.demo.run import teardown as remove_previews
    from aither_assets.devstack.demo.stack import StackError, check_docker, stop_on_sigterm
    from aither_assets.devstack.postgres import PostgresUnavailable

    data_dir = data_dir.resolve()
    if teardown:
        try:
            check_docker()
        except StackError as exc:
            raise click.ClickException(str(exc)) from None
        names = remove_previews(data_dir)
        click.echo(f"removed {len(names)} preview container{'s' if len(names) != 1 else ''}"
                   + (f": {', '.join(names)}" if names else f" (the demo on {data_dir} left none)"))
        return
    stop_on_sigterm()
    try:
        if once:
            sys.exit(run_once(data_dir, (json_path or data_dir / "summary.json").resolve(), reset, timeout, profile))
        run_interactive(data_dir, reset, ui_port, profile)
    except (StackError, BaseImageError, CodeImageError, PostgresUnavailable) as exc:  # said without a traceback
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="AITHER_CONFIG",
              required=True, help="Operator config (default: $AITHER_CONFIG).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8790, show_default=True)
@click.option("--dagster-url", default="http://127.0.0.1:3000", envvar="AITHER_DAGSTER_URL", show_default=True,
              help="The Dagster webserver runs are submitted to (GraphQL).")
@click.option("--location", default="aither_assets", show_default=True, help="Code location of pr_pipeline.")
def webhooks(config_path: Path, host: str, port: int, dagster_url: str, location: str) -> None:
    """Receive GitHub's pull_request webhooks at POST /webhooks/github and queue a run for a new head at once.

    Deliveries must be signed with the secret in $AITHER_WEBHOOK_SECRET (github.webhook_secret_env).
    The PR sensor stays on as the safety net and skips heads that already have a run.
    """
    from aither_assets.webhooks.service import ServiceError, serve

    try:
        serve(config_path, host, port, dagster_url, location)
    except (ServiceError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command(name="base-image", add_help_option=False, context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def base_image(args: tuple[str, ...]) -> None:
    """Build (or reuse) the minimal Python base images from Debian packages (--help for options)."""
    from aither_assets.devstack.baseimage import main as build_base_images

    sys.exit(build_base_images(list(args)))


def _mount_local_github() -> None:
    from aither_assets.devstack.localgithub.cli import local_github

    main.add_command(local_github, name="local-github")


_mount_local_github()


def _mount_release() -> None:
    from aither_assets.release_cli import release

    main.add_command(release, name="release")


_mount_release()


if __name__ == "__main__":
    main()
