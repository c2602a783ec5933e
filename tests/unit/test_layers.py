"""The layers import downwards only: no module below the web layer reaches into it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from recruit import ROOT

# The app factory wires the web layer in; the CLI and the web layer itself sit on top.
ABOVE_OR_WIRING = ("recruit/web/", "recruit/cli/", "recruit/__init__.py")


def _modules_below_the_web_layer():
    package = ROOT / "recruit"
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(ABOVE_OR_WIRING) and "/migrations/" not in rel:
            yield rel


def _imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("rel", list(_modules_below_the_web_layer()))
def test_module_below_the_web_layer_never_imports_it(rel):
    """Even a lazy import inside a function counts: it is the circle issue 17 was about."""
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    bad = sorted({m for m in _imported_modules(tree)
                  if m == "recruit.web" or m.startswith("recruit.web.")})
    assert not bad, f"{rel} imports {bad}"


@pytest.mark.parametrize("module", ["applicant", "bench", "custody", "demo", "instance",
                                    "keys", "mail", "offers", "ops", "reports", "review",
                                    "schema", "tracks", "users"])
def test_each_command_module_imports_on_its_own(module):
    code = f"import recruit.cli.{module}"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_help_on_a_fresh_instance_lists_commands_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
    env["RECRUIT_INSTANCE_PATH"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", "from recruit.cli import main; main()",
                             "--help"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "recruit instance init" in result.stderr
    for command in ("users", "mail", "campaign", "redact", "purge"):
        assert command in result.stdout
