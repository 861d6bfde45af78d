"""The Python examples of docs/envs.md run as written (the PPO one is tests/envs/test_ppo.py's run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "envs.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
SB3_PPO = "from stable_baselines3 import PPO"


def test_doc_has_the_examples() -> None:
    assert len(BLOCKS) == 6 and any("for _ in range(500)" in b for b in BLOCKS)
    assert any("MaskablePPO(" in b for b in BLOCKS)
    ppo = next(b for b in BLOCKS if SB3_PPO in b)
    test = (Path(__file__).parent / "test_ppo.py").read_text()
    for setting in ("n_steps=256", "batch_size=64", "n_epochs=5", "learning_rate=3e-3", '"net_arch": [64, 64]'):
        assert setting in ppo and setting in test
    assert "total_timesteps=2048" in ppo and "TRAIN_STEPS = 2048" in test


@pytest.mark.parametrize("index", [i for i, b in enumerate(BLOCKS) if SB3_PPO not in b])
def test_doc_example_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[index], f"docs/envs.md block {index}", "exec"), {})


def test_readme_environments_example_runs() -> None:
    readme = (DOC.parents[1] / "README.md").read_text()
    section = readme.split("## Environments (Gymnasium and PettingZoo)", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    scope: dict = {}
    exec(compile(block, "README.md environments example", "exec"), scope)
    assert set(scope["info"]) >= {"design", "metrics", "targets_met", "evaluations"}
