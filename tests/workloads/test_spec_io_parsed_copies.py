"""A YAML file shipped with the package is read from its parsed copy (``workloads.spec_io.read_yaml``):
the same data as PyYAML gives, parsed again when the file changes, never kept for a file outside the
package or for data JSON cannot hold exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from acceldse.simulator.specs.presets import PRESET_DIR
from acceldse.workloads import spec_io
from acceldse.workloads.errors import SpecError


def test_a_shipped_preset_is_read_from_its_parsed_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    preset = PRESET_DIR / "tpu-hbm-like.yaml"
    expected = yaml.safe_load(preset.read_text())
    assert spec_io.read_yaml(preset, kind="hardware") == expected  # parses and keeps the copy (or reads it)

    def no_parser(text: str, *, source: str) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(spec_io, "safe_load", no_parser)
    assert spec_io.read_yaml(preset, kind="hardware") == expected


def test_a_changed_file_is_parsed_again_and_only_exact_data_is_kept(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    root, copies = tmp_path / "package", tmp_path / "copies"
    root.mkdir()
    monkeypatch.setattr(spec_io, "PACKAGE_ROOT", root)
    monkeypatch.setattr(spec_io, "PARSED_COPIES", copies)
    spec = root / "spec.yaml"
    spec.write_text("version: 1\nrows: 8\n")
    assert spec_io.read_yaml(spec, kind="hardware") == {"version": 1, "rows": 8}
    assert [p.name for p in copies.iterdir()] == ["spec.yaml.json"]
    spec.write_text("version: 1\nrows: 16\n")
    assert spec_io.read_yaml(spec, kind="hardware") == {"version": 1, "rows": 16}

    dated = root / "dated.yaml"  # a date and an integer key: JSON would give them back as text
    dated.write_text("when: 2026-12-08\n3: three\n")
    assert spec_io.read_yaml(dated, kind="hardware") == {"when": yaml.safe_load("2026-12-08"), 3: "three"}
    outside = tmp_path / "user.yaml"
    outside.write_text("version: 1\n")
    assert spec_io.read_yaml(outside, kind="hardware") == {"version": 1}
    bad = root / "bad.yaml"
    bad.write_text("version: 1\nversion: 2\n")
    for _ in range(2):
        with pytest.raises(SpecError, match="duplicate key 'version'"):
            spec_io.read_yaml(bad, kind="hardware")
    assert [p.name for p in copies.iterdir()] == ["spec.yaml.json"]
