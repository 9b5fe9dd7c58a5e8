"""``rosterhub config ...``: show the effective settings, regenerate their documentation."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def show() -> None:
    """Print the effective settings (secrets masked) after environment and config file are applied."""
    from rosterhub.settings import load_settings

    for name, value in load_settings().model_dump(mode="json").items():
        typer.echo(f"{name} = {value}")


@app.command()
def docs(output: Path = typer.Option(Path("docs/configuration.md"), help="Where to write it.")) -> None:
    """Regenerate docs/configuration.md from the settings model."""
    from rosterhub.config_docs import render_configuration_md

    output.write_text(render_configuration_md())
    typer.echo(f"wrote {output}")
