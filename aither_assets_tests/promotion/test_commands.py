import pytest

from aither_assets.promotion.commands import Command, parse_comment
from aither_assets.promotion.names import ring_asset_name, ring_asset_names

LADDER = ("dev", "staging", "ring-0", "ring-1", "ring-2", "production")


@pytest.mark.parametrize("body, command", [
    ("/approve ring-1", Command("approve", "ring-1")),
    ("LGTM\n/approve ring-0\nthanks", Command("approve", "ring-0")),
    ("/approve staging sha256:0123456789ab", Command("approve", "staging", digest="sha256:0123456789ab")),
    ("/promote ring-1 canary looks fine", Command("promote", "ring-1", reason="canary looks fine")),
    ("/promote dev", Command("promote", "dev")),
    ("/promote dev   \r\n", Command("promote", "dev")),
])
def test_valid_commands(body, command):
    parsed = parse_comment(body, LADDER)
    assert parsed.command == command and parsed.problems == ()


@pytest.mark.parametrize("body", [
    "please /approve ring-1",  # not at the start of a line
    " /approve ring-1",  # indented
    "> /approve ring-1",  # a quote
    "```\n/approve ring-1\n```",  # a code block
    "~~~sh\n/promote dev\n~~~",
    "    /approve ring-1",  # indented code
    "/Approve ring-1",  # commands are lowercase
    "/approved ring-1",  # another word
    "/rolback ring-1",  # not ours
    "/approvering-1",
    "",
])
def test_not_commands(body):
    parsed = parse_comment(body, LADDER)
    assert parsed.command is None and parsed.problems == () and not parsed.mentions_command


@pytest.mark.parametrize("body, problem", [
    ("/approve", "needs a ring"),
    ("/approve ring-9", "unknown ring ring-9"),
    ("/approve <script>alert(1)</script>", "unknown ring (a malformed name)"),
    ("/approve RING-1", "unknown ring (a malformed name)"),
    ("/approve ring-1 please", "takes a ring and optionally the digest"),
    ("/approve ring-1 sha256:xyz", "takes a ring and optionally the digest"),
    ("/promote dev " + "x" * 201, "at most 200"),
    ("/promote dev bad\x07bell", "printable"),
])
def test_malformed_commands_are_answered(body, problem):
    parsed = parse_comment(body, LADDER)
    assert parsed.command is None and len(parsed.problems) == 1 and problem in parsed.problems[0]
    assert parsed.mentions_command


def test_one_command_per_comment():
    parsed = parse_comment("/approve ring-0\n/promote ring-0", LADDER)
    assert parsed.command == Command("approve", "ring-0")
    assert parsed.problems == ("one command per comment: /promote ring-0 was not run",)


def test_huge_body_is_cut():
    parsed = parse_comment("x\n" * 40000 + "/approve dev", LADDER)
    assert parsed.command is None


def test_asset_names():
    assert [ring_asset_name(r) for r in LADDER] == ["ring_dev", "ring_staging", "ring_0", "ring_1", "ring_2",
                                                    "ring_production"]
    with pytest.raises(ValueError, match="clashing"):
        ring_asset_names(("0", "ring-0"))


@pytest.mark.parametrize("body, command", [
    ("/rollback staging smoke is red", Command("rollback", "staging", reason="smoke is red")),
    ("/rollback ring-0 #12 back to the known good one", Command("rollback", "ring-0", reason="back to the known good one",
                                                               to_pr=12)),
    ("/hold flaky in canary", Command("hold", None, reason="flaky in canary")),
    ("/unhold fixed upstream", Command("unhold", None, reason="fixed upstream")),
    ("/promote production --break-glass customer outage fix",
     Command("promote", "production", reason="customer outage fix", break_glass=True)),
    ("/promote production customer --break-glass", Command("promote", "production", reason="customer --break-glass")),
])
def test_recovery_commands(body, command):
    parsed = parse_comment(body, LADDER)
    assert parsed.command == command and parsed.problems == ()


@pytest.mark.parametrize("body, problem", [
    ("/rollback staging", "/rollback needs a reason"),
    ("/rollback staging #12", "/rollback needs a reason"),
    ("/rollback staging #x1 why", "as #<number>"),
    ("/rollback staging #0 why", "as #<number>"),
    ("/rollback", "needs a ring"),
    ("/rollback ring-9 why", "unknown ring ring-9"),
    ("/hold", "/hold needs a reason"),
    ("/unhold   ", "/unhold needs a reason"),
    ("/unhold bad\x1b[31m", "printable"),
    ("/hold " + "x" * 201, "at most 200"),
    ("/promote production --break-glass", "--break-glass needs a reason"),
])
def test_malformed_recovery_commands_are_answered(body, problem):
    parsed = parse_comment(body, LADDER)
    assert parsed.command is None and len(parsed.problems) == 1 and problem in parsed.problems[0]


def test_a_second_hold_in_one_comment_is_not_run():
    parsed = parse_comment("/hold first\n/unhold second", LADDER)
    assert parsed.command == Command("hold", None, reason="first")
    assert parsed.problems == ("one command per comment: /unhold was not run",)
