"""The README documents every command, its install and test commands match .ci/run and pyproject.toml."""

import re

import pytest
import tomllib
from typer.testing import CliRunner

from forecast.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
COMMANDS = ["train", "backtest", "compare", "predict", "info", "datasets", "datasets make"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_a_readme_example(command):
    result = CliRunner().invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example: forecast " + command in result.stdout
    assert f"forecast {command}" in README


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in README


def test_readme_install_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["forecast"] == "forecast.cli:main"
    assert 'pip install -e ".[test]"' in README and "pip install -e ." in README
    for dep in project["dependencies"]:
        name = re.split(r"[<>=\[]", dep)[0]
        assert name in README, f"README does not mention dependency {name}"
    keras = next(d for d in project["dependencies"] if d.startswith("keras"))
    assert keras == "keras>=3.15.1" and "keras >= 3.15.1" in README


def test_readme_figures_exist():
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / image).is_file(), image


def test_readme_lists_the_error_catalogue():
    from tests.test_errors import catalogue

    rows = catalogue()
    assert len(rows) >= 30
    for i, (case, message) in enumerate(rows, 1):
        assert f"| {i} | {case} | `` Error: {message} `` |" in README, case
