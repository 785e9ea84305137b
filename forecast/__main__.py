"""`python -m forecast` and the `forecast` command. The boundary's signal handlers come first and the CLI (Typer,
pandas, a command's own imports) loads inside them, so that Ctrl-C at any moment after start-up is the one
`Interrupted:` line and exit 130."""

from forecast import boundary


def main() -> None:
    with boundary.process():
        from forecast.cli import app

        app(prog_name="forecast")


if __name__ == "__main__":
    main()
