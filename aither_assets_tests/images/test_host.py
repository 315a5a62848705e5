"""What the host's Docker engine can do: arm64 emulation through binfmt_misc (no Docker needed here)."""

from aither_assets.images import host
from aither_assets.images.host import arm64_emulation_available


def _fake_binfmt(tmp_path, monkeypatch, handler: str | None, status: str = "enabled") -> None:
    monkeypatch.setattr(host._platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(host, "BINFMT_DIR", tmp_path)
    (tmp_path / "status").write_text(status + "\n")
    (tmp_path / "register").write_text("")
    if handler is not None:
        (tmp_path / "qemu-aarch64").write_text(handler)


AARCH64 = (
    "interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
    "flags: {flags}\noffset 0\n"
    "magic 7f454c460201010000000000000000000200b700\n"
    "mask ffffffffffffff00fffffffffffffffffeffffff\n"
)


def test_emulation_not_mounted(tmp_path, monkeypatch):
    monkeypatch.setattr(host._platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(host, "BINFMT_DIR", tmp_path / "missing")
    ok, why = arm64_emulation_available()
    assert not ok and "binfmt_misc is not mounted" in why


def test_emulation_handler_missing(tmp_path, monkeypatch):
    _fake_binfmt(tmp_path, monkeypatch, None)
    ok, why = arm64_emulation_available()
    assert not ok
    assert why == (
        "binfmt handler for aarch64 not registered: apt-get install -y qemu-user-static binfmt-support "
        "&& update-binfmts --enable qemu-aarch64"
    )


def test_emulation_handler_disabled(tmp_path, monkeypatch):
    _fake_binfmt(tmp_path, monkeypatch, "disabled\n" + AARCH64.format(flags="PF"))
    ok, why = arm64_emulation_available()
    assert not ok and "update-binfmts --enable qemu-aarch64" in why


def test_emulation_handler_without_fix_binary_flag(tmp_path, monkeypatch):
    _fake_binfmt(tmp_path, monkeypatch, "enabled\n" + AARCH64.format(flags="P"))
    ok, why = arm64_emulation_available()
    assert not ok and "F (fix-binary) flag" in why


def test_emulation_handler_ok(tmp_path, monkeypatch):
    _fake_binfmt(tmp_path, monkeypatch, "enabled\n" + AARCH64.format(flags="PF"))
    ok, why = arm64_emulation_available()
    assert ok and "qemu-aarch64" in why


def test_other_64_bit_handlers_are_not_mistaken_for_aarch64(tmp_path, monkeypatch):
    riscv = AARCH64.format(flags="PF").replace("0200b700", "0200f300").replace("aarch64", "riscv64")
    _fake_binfmt(tmp_path, monkeypatch, None)
    (tmp_path / "qemu-riscv64").write_text("enabled\n" + riscv)
    ok, why = arm64_emulation_available()
    assert not ok and "not registered" in why


def test_native_arm64_needs_no_emulation(monkeypatch):
    monkeypatch.setattr(host._platform, "machine", lambda: "aarch64")
    assert arm64_emulation_available() == (True, "native arm64 host: no emulation needed")
