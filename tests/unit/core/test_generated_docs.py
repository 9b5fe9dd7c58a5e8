from pathlib import Path

from rosterhub.config_docs import render_configuration_md
from rosterhub.settings import Settings

REPO = Path(__file__).resolve().parents[3]


def test_configuration_md_is_fresh() -> None:
    committed = (REPO / "docs" / "configuration.md").read_text()
    assert committed == render_configuration_md(), "docs/configuration.md is stale: run `rosterhub config docs`"


def test_every_setting_is_documented() -> None:
    missing = [name for name, info in Settings.model_fields.items() if not info.description]
    assert not missing, f"settings without a description: {missing}"
