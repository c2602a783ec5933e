"""Long CLI work draws a progress bar on a terminal and prints none in cron, pipes or logs."""

from __future__ import annotations

import io

import pytest

from recruit.cli import cli, common
from tests.factories import wave_with_expired_stages


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a shell's stderr does."""

    def isatty(self) -> bool:
        return True


def test_the_bar_draws_on_a_terminal_and_is_silent_elsewhere():
    screen = Terminal()
    with common.progress(length=4, label="Working", file=screen) as bar:
        for _ in range(4):
            bar.update(1)
    assert "Working" in screen.getvalue() and "4/4" in screen.getvalue()

    pipe = io.StringIO()
    with common.progress(length=4, label="Working", file=pipe) as bar:
        bar.update(4)
    assert pipe.getvalue() == ""


@pytest.mark.parametrize(("args", "label"), [
    (("backup", "{tmp}/copy.backup"), "Backing up"),
    (("stages", "close-expired", "--batch", "2", "--grace", "0"), "Closing expired stages"),
    (("purge", "--older-than", "30"), "Erasing identities"),
    (("scores", "normalise"), "Normalising bars"),
], ids=["backup", "close-expired", "purge", "normalise"])
def test_long_commands_show_progress_on_a_terminal_only(fresh_app, tmp_path, monkeypatch,
                                                        args, label):
    wave_with_expired_stages(fresh_app, 3, texts=False, key="bars")
    args = [a.format(tmp=tmp_path) for a in args]
    quiet = fresh_app.test_cli_runner().invoke(cli, args)
    assert quiet.exit_code == 0, quiet.output
    assert label not in quiet.output and "%" not in quiet.output  # what cron would mail

    screen = Terminal()
    monkeypatch.setattr(common, "terminal", lambda: screen)
    if args[0] == "backup":
        args[1] = str(tmp_path / "second.backup")
    shown = fresh_app.test_cli_runner().invoke(cli, args)
    assert shown.exit_code == 0, shown.output
    assert label in screen.getvalue(), screen.getvalue()
    assert label not in shown.output  # the bar goes to stderr; stdout keeps the result
