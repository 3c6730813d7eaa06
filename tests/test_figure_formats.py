"""Figure formats: PNG by default, SVG on request (``formats=``, ``neurocode figures --svg``).

The PNG of a figure is compared with matplotlib's own ``savefig`` of it (the reference, not a
number of ours), and must be the same bytes whether or not an SVG is written beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib import rc_context
from matplotlib.figure import Figure

from neurocode.cli import main
from neurocode.figures.style import (
    DEFAULT_FORMATS,
    FigureFormatError,
    check_formats,
    current_formats,
    figure_formats,
    save_figures,
)
from neurocode.store import write_battery, write_run


def _figure() -> Figure:
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 0, 2], label="formats λ")
    ax.legend()
    return fig


def _direct_png(fig: Figure, path: Path) -> bytes:
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "neurocode"}):
        fig.savefig(path, dpi=150, format="png")
    return path.read_bytes()


def test_default_writes_png_only_with_matplotlibs_bytes(tmp_path):
    assert DEFAULT_FORMATS == ("png",) and current_formats() == ("png",)
    fig = _figure()
    paths = save_figures({"a": fig}, tmp_path / "out")
    assert [p.name for p in paths] == ["a.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]
    assert paths[0].read_bytes() == _direct_png(fig, tmp_path / "direct.png")


def test_svg_on_request_leaves_the_png_bytes_unchanged(tmp_path):
    fig = _figure()
    png_only = save_figures({"a": fig}, tmp_path / "one")
    both = save_figures({"a": fig}, tmp_path / "two", formats=("svg", "png"))
    assert [p.name for p in both] == ["a.png", "a.svg"]           # PNG first, whatever order
    assert both[0].read_bytes() == png_only[0].read_bytes()
    assert "formats λ" in both[1].read_text()                      # SVG text kept as text
    svg_only = save_figures({"a": fig}, tmp_path / "three", formats="svg")
    assert [p.name for p in svg_only] == ["a.svg"]
    assert svg_only[0].read_bytes() == both[1].read_bytes()


def test_a_figure_formats_block_sets_the_default_and_restores_it(tmp_path):
    fig = _figure()
    with figure_formats(("png", "svg")) as fmts:
        assert fmts == ("png", "svg") == current_formats()
        assert [p.suffix for p in save_figures({"a": fig}, tmp_path)] == [".png", ".svg"]
        with figure_formats("png"):
            assert current_formats() == ("png",)
        assert current_formats() == ("png", "svg")
    assert current_formats() == ("png",)
    with pytest.raises(RuntimeError), figure_formats("svg"):
        raise RuntimeError("inside")
    assert current_formats() == ("png",)                           # restored after an error


@pytest.mark.parametrize("bad, match", [(("png", "pdf"), "unknown figure format 'pdf'"),
                                        ((), "no figure format given"),
                                        (3, "must be a list of names")])
def test_a_bad_format_is_a_clear_value_error_and_writes_nothing(tmp_path, bad, match):
    with pytest.raises(FigureFormatError, match=match) as info:
        save_figures({"a": _figure()}, tmp_path / "out", formats=bad)
    assert isinstance(info.value, ValueError)
    assert not (tmp_path / "out").exists()
    assert check_formats([".SVG", "png", "svg"]) == ("png", "svg")


def _results(root: Path) -> Path:
    """One measured run of random 4-of-64 codes: enough for the battery and summary figures."""
    loads = np.array([1.0, 3.0, 10.0, 30.0])
    battery = {
        "activity": {"avr": 4.0, "n_units": 64.0, "activity_ratio": 4 / 64,
                     "treves_rolls": 0.06, "dead_fraction": 0.0, "code_type": "sparse"},
        "willshaw": {"loads": loads, "error": loads / 100, "theory_error": loads / 120,
                     "bits_per_synapse_at_capacity": 0.02, "tolerance": 0.01},
        "unions": {"loads": loads, "false_match": loads / 50,
                   "theory_false_match": loads / 60},
        "_meta": {"n_stimuli": 100.0, "n_units": 64.0, "readout": "none"},
    }
    config = {"name": "fmt", "seed": 0, "model": {"rule": "kwta", "n_units": 64, "k": 4},
              "data": {"dataset": "mnist"}}
    path = write_run(root / "fmt" / "k=4.h5", config=config, experiment="fmt", run_name="k=4",
                     seed=0, curves={}, final={"avr": 4.0, "n_units": 64.0,
                                               "activity_ratio": 4 / 64})
    write_battery(path, battery)
    return root


def test_cli_figures_passes_png_by_default_and_both_with_svg(tmp_path, monkeypatch, capsys):
    from neurocode import api

    seen = []

    def figures(results, out, **kw):
        seen.append(kw["formats"])
        return [Path(out) / "x.png"]

    monkeypatch.setattr(api, "figures", figures)
    (tmp_path / "res").mkdir()
    assert main(["figures", str(tmp_path / "res"), "--out", str(tmp_path / "f")]) == 0
    assert main(["figures", str(tmp_path / "res"), "--out", str(tmp_path / "f"), "--svg"]) == 0
    assert seen == [("png",), ("png", "svg")]


def test_api_figures_refuses_a_bad_format_before_storing_anything(tmp_path):
    from neurocode import api

    res = _results(tmp_path / "res")
    before = sorted(p.relative_to(res) for p in res.rglob("*"))
    with pytest.raises(FigureFormatError, match="unknown figure format 'jpeg'"):
        api.figures(res, tmp_path / "figs", formats=("png", "jpeg"))
    assert sorted(p.relative_to(res) for p in res.rglob("*")) == before  # no theory curves
    assert not (tmp_path / "figs").exists()


@pytest.mark.slow
def test_cli_figures_writes_png_only_and_svg_beside_it_with_svg(tmp_path, capsys):
    res = _results(tmp_path / "res")
    plain, svg = tmp_path / "plain", tmp_path / "svg"
    assert main(["figures", str(res), "--out", str(plain), "--no-theory", "--no-fields"]) == 0
    printed = capsys.readouterr().out.split()
    names = sorted(p.name for p in plain.iterdir())
    assert names and all(n.endswith(".png") for n in names)
    assert sorted(Path(p).name for p in printed) == names
    assert main(["figures", str(res), "--out", str(svg), "--no-theory", "--no-fields",
                 "--svg"]) == 0
    with_svg = sorted(p.name for p in svg.iterdir())
    assert with_svg == sorted(names + [n[:-4] + ".svg" for n in names])
    for n in names:                                    # the PNGs are the same bytes
        assert (plain / n).read_bytes() == (svg / n).read_bytes(), n
    assert "k=4" in (svg / "summary_properties.svg").read_text()
