"""The README and docs/ cannot drift from the code: every command, option, module and error message is documented,
the README's install and test commands match .ci/run and pyproject.toml, and every link and figure exists."""

import re
from pathlib import Path

import pytest
import tomllib
import typer.main
from typer.testing import CliRunner

from forecast.cli import app
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
COMMANDS = ["train", "backtest", "tune", "compare", "predict", "info", "datasets", "datasets make"]


def text(page: Path) -> str:
    return page.read_text()


def command_options() -> dict[str, list[str]]:
    """Every option string (`--lookback`, `-c`) of every command and sub-command, from the click tree Typer builds."""
    found = {}

    def walk(group, prefix: str) -> None:
        for name, command in group.commands.items():
            found[prefix + name] = [opt for param in command.params if param.param_type_name == "option"
                                    for opt in param.opts]
            if hasattr(command, "commands"):
                walk(command, prefix + name + " ")

    walk(typer.main.get_command(app), "")
    return found


def option_sections() -> dict[str, str]:
    """The text of each `## `forecast <command> ...`` section of docs/options.md, keyed by the command's words."""
    sections = {}
    for part in re.split(r"^(?=## )", text(DOCS / "options.md"), flags=re.MULTILINE):
        heading = re.match(r"## `forecast ([^`]*)`", part)
        if heading:
            words = []
            for word in heading.group(1).split():
                if not re.fullmatch(r"[a-z]+", word):
                    break
                words.append(word)
            sections[" ".join(words)] = part
    return sections


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_a_readme_example(command):
    result = CliRunner().invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example: forecast " + command in result.stdout
    assert f"forecast {command}" in text(README)


def test_the_command_list_is_complete():
    assert sorted(command_options()) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_in_its_section_of_the_option_reference(command):
    sections = option_sections()
    assert command in sections, f"docs/options.md has no section ## `forecast {command} ...`"
    missing = [opt for opt in command_options()[command] if f"`{opt}`" not in sections[command]]
    assert not missing, f"docs/options.md, section `forecast {command}`, does not name {missing}"


def test_every_module_is_in_the_architecture_page():
    page = text(DOCS / "architecture.md")
    missing = [p.stem for p in sorted((ROOT / "forecast").glob("*.py")) if f"`{p.stem}`" not in page]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in text(README)


def test_readme_install_matches_pyproject():
    readme = text(README)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["forecast"] == "forecast.__main__:main"
    assert 'pip install -e ".[test]"' in readme and "pip install -e ." in readme
    assert 'pip install -e ".[gpu]"' in readme and "gpu" in project["optional-dependencies"]
    for dep in project["dependencies"]:
        name = re.split(r"[<>=\[]", dep)[0]
        assert name in readme, f"README does not mention dependency {name}"
    keras = next(d for d in project["dependencies"] if d.startswith("keras"))
    assert keras == "keras>=3.15.1" and "keras >= 3.15.1" in readme


def test_readme_stays_short():
    lines = len(text(README).splitlines())
    assert lines <= 200, f"README.md has {lines} lines; move detail into docs/"


def links(page: Path) -> list[str]:
    """Targets of the Markdown links and images of a page, outside code blocks."""
    prose = re.sub(r"^```.*?^```", "", text(page), flags=re.MULTILINE | re.DOTALL)
    return re.findall(r"\]\(([^)\s]+)\)", prose)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_figure_exists(page):
    for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text(page)):
        assert (page.parent / image).is_file(), f"{page.name}: missing figure {image}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_exists(page):
    for target in links(page):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#")[0]
        assert (page.parent / path).exists(), f"{page.name}: broken link {target}"


def test_the_docs_list_every_docs_page_and_benchmark():
    targets = set(links(README))
    pages = [f"docs/{p.name}" for p in sorted(DOCS.glob("*.md"))]
    benchmarks = [f"benchmarks/{p.name}" for p in sorted((ROOT / "benchmarks").glob("*.md"))]
    missing = [p for p in pages + benchmarks if p not in targets]
    assert not missing, f"README.md does not link {missing}"


def test_docs_list_the_error_catalogue():
    from tests.test_errors import catalogue

    page = text(DOCS / "errors.md")
    rows = catalogue()
    assert len(rows) >= 30
    for i, (case, message) in enumerate(rows, 1):
        assert f"| {i} | {case} | `` Error: {message} `` |" in page, (
            f"docs/errors.md lacks row {i} ({case}); regenerate it with python docs/make_errors_table.py")
    assert len(re.findall(r"^\| \d+ \|", page, flags=re.MULTILINE)) == len(rows), "docs/errors.md has rows not in the catalogue"
