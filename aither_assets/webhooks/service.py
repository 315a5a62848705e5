"""``aither webhooks``: the receiver as a long-running service next to the Dagster daemon."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

from aither_assets.config.operator import load_operator_config
from aither_assets.webhooks.receiver import WebhookReceiver


class ServiceError(RuntimeError):
    pass


def build_receiver(config_path: Path, host: str, port: int, dagster_url: str, location: str) -> WebhookReceiver:
    import dagster as dg

    from aither_assets.github.client import client_from_config
    from aither_assets.webhooks.dispatch import RunDispatcher, graphql_launcher

    config = load_operator_config(config_path)
    secret_env = config.github.webhook_secret_env
    secret = os.environ.get(secret_env, "")
    if not secret:
        raise ServiceError(f"environment variable {secret_env} (github.webhook_secret_env in {config_path}) is not "
                           "set: it must hold the secret the GitHub hook signs deliveries with")
    try:
        client = client_from_config(config, os.environ)
    except ValueError as exc:
        raise ServiceError(f"{config_path}: {exc}") from None
    from aither_assets.runs.comments import graphql_promotion_launcher

    dispatcher = RunDispatcher(config, client, dg.DagsterInstance.get(), graphql_launcher(dagster_url, location),
                               graphql_promotion_launcher(dagster_url, location))
    return WebhookReceiver(secret.encode(), config.repository, dispatcher, host=host, port=port)


def serve(config_path: Path, host: str, port: int, dagster_url: str, location: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # schema checks each time the instance opens
    receiver = build_receiver(config_path, host, port, dagster_url, location)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with receiver:
        print(f"receiving GitHub webhooks at {receiver.url}; runs go to {dagster_url}", flush=True)
        stop.wait()
