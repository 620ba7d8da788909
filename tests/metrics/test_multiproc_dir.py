"""How an HTTP service prepares prometheus-client's multiprocess directory
before gunicorn starts (invoicer.common.serving.prepare_metrics)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from invoicer.common.config import Settings
from invoicer.common.serving import metrics_hooks, prepare_metrics


def test_a_given_directory_is_emptied_of_an_earlier_starts_samples(tmp_path):
    (tmp_path / "counter_1234.db").write_bytes(b"stale")
    (tmp_path / "histogram_99.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("not ours")
    environ: dict[str, str] = {}
    settings = replace(Settings(), metrics_port=9100, prometheus_multiproc_dir=str(tmp_path))
    assert prepare_metrics(settings, environ.__setitem__) == str(tmp_path)
    assert environ == {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert set(metrics_hooks(settings, str(tmp_path), "127.0.0.1:8080")) == {"when_ready", "child_exit", "on_exit"}


def test_without_a_directory_each_start_gets_a_new_one(tmp_path):
    settings = replace(Settings(), metrics_port=9100)
    first: dict[str, str] = {}
    second: dict[str, str] = {}
    prepare_metrics(settings, first.__setitem__)
    prepare_metrics(settings, second.__setitem__)
    made = [Path(first["PROMETHEUS_MULTIPROC_DIR"]), Path(second["PROMETHEUS_MULTIPROC_DIR"])]
    try:
        assert made[0] != made[1] and all(path.is_dir() and not any(path.iterdir()) for path in made)
    finally:
        for path in made:
            path.rmdir()


def test_nothing_is_prepared_without_a_metrics_port(tmp_path):
    environ: dict[str, str] = {}
    settings = replace(Settings(), prometheus_multiproc_dir=str(tmp_path))
    assert prepare_metrics(settings, environ.__setitem__) is None
    assert environ == {}
    assert metrics_hooks(settings, None, "127.0.0.1:8080") == {}
