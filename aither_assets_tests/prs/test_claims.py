"""Head claims: exactly one of several racing claimants starts a head; stale claims are taken over."""

import multiprocessing
import time

import pytest

from aither_assets.prs.claims import KEEP_SECONDS, HeadClaims, claims_for
from aither_assets.runtime.statestore import PostgresStore

SHA = "a" * 40


def test_first_claimant_wins_and_the_other_gets_nothing(tmp_path):
    claims = HeadClaims(tmp_path / "claims.sqlite3")
    assert claims.claim([(7, SHA), (8, SHA)], "webhook") == [(7, SHA), (8, SHA)]
    assert claims.claim([(7, SHA), (9, SHA)], "sensor") == [(9, SHA)]
    assert claims.holder(7, SHA) == "webhook" and claims.holder(9, SHA) == "sensor"
    assert claims.claim([(7, SHA)], "webhook") == [(7, SHA)]  # the holder asking again (a retry)


def test_a_released_or_stale_claim_goes_to_the_next_claimant(tmp_path):
    claims = HeadClaims(tmp_path / "claims.sqlite3", ttl=60)
    claims.claim([(7, SHA)], "webhook", now=1000.0)
    claims.release(7, SHA, "sensor")  # only the holder can release
    assert claims.claim([(7, SHA)], "sensor", now=1030.0) == []
    assert claims.claim([(7, SHA)], "sensor", now=1061.0) == [(7, SHA)]  # its run never came: taken over
    claims.release(7, SHA, "sensor")
    assert claims.holder(7, SHA) is None and claims.claim([(7, SHA)], "webhook", now=1062.0) == [(7, SHA)]


def test_old_claims_are_pruned(tmp_path):
    claims = HeadClaims(tmp_path / "claims.sqlite3")
    claims.claim([(1, SHA)], "sensor", now=1000.0)
    claims.claim([(2, SHA)], "sensor", now=1000.0 + KEEP_SECONDS + 1)
    assert claims.holder(1, SHA) is None and claims.holder(2, SHA) == "sensor"


@pytest.fixture(params=["sqlite", "postgres"])
def claims_store(request, tmp_path):
    """Where the claims live: the embedded profile's file, or the production profile's Postgres tables."""
    if request.param == "sqlite":
        return str(tmp_path / "claims.sqlite3")
    return PostgresStore(request.getfixturevalue("postgres_url"), "head_claims")


def _race(store, who: str, start_at: float, out) -> None:
    claims = HeadClaims(store)
    while time.time() < start_at:
        pass
    out.put((who, claims.claim([(pr, SHA) for pr in range(1, 51)], who)))


def test_racing_processes_never_both_win_a_head(claims_store):
    HeadClaims(claims_store)
    out = multiprocessing.get_context("fork").Queue()
    start_at = time.time() + 0.5
    procs = [multiprocessing.get_context("fork").Process(target=_race, args=(claims_store, who, start_at, out))
             for who in ("sensor", "webhook", "other")]
    for proc in procs:
        proc.start()
    won = dict(out.get(timeout=30) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
    heads = [head for heads in won.values() for head in heads]
    assert sorted(heads) == sorted((pr, SHA) for pr in range(1, 51))  # every head won exactly once


def test_claims_on_postgres_keep_the_rules(postgres_url, tmp_path):
    claims = claims_for(tmp_path, postgres_url)
    assert isinstance(claims.store, PostgresStore) and not list(tmp_path.iterdir())  # no file written
    claims.ttl = 60
    assert claims.claim([(7, SHA)], "webhook", now=1000.0) == [(7, SHA)]
    assert claims.claim([(7, SHA)], "sensor", now=1030.0) == []
    assert claims.claim([(7, SHA)], "sensor", now=1061.0) == [(7, SHA)]
    claims.release(7, SHA, "sensor")
    assert claims.holder(7, SHA) is None
