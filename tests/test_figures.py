"""Figures and tables of the article reproduction, drawn from small synthetic run files.

The curves here are synthetic fixtures (shapes only), not results.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurocode.figures.article import (
    ARTICLE_CNN_REFERENCES,
    ARTICLE_FC_POINTS,
    RECON_HEADER,
    draw_article_figures,
    format_lambda,
    format_markdown_table,
    lambda_colours,
    make_figures,
    summary_table,
)
from neurocode.store import write_run

STEPS = np.array([0, 100, 200, 300, 400])


def _write(tmp: Path, experiment: str, kind: str, l1: float, *, decoder: str | None = None,
           n_units: int = 784, status: str = "complete", acc_end: float = 0.97,
           avr_end: float = 5.0) -> Path:
    config = {
        "name": experiment,
        "seed": 0,
        "model": {"kind": kind, "l1": l1, "hidden": 784 if kind == "fc" else None, "decoder": decoder},
        "train": {"iterations": int(STEPS[-1]), "batch_size": 100, "lr": 0.001, "eval_every": 100},
        "data": {"dataset": "mnist"},
    }
    t = np.linspace(0.0, 1.0, len(STEPS))
    accuracy = 0.1 + (acc_end - 0.1) * (1 - np.exp(-5 * t))
    avr = avr_end + (n_units / 2 - avr_end) * np.exp(-5 * t)
    loss_ce = 2.3 * np.exp(-4 * t) + 0.05
    loss_l1 = l1 * avr
    curves = {
        "step": STEPS,
        "accuracy": accuracy,
        "avr": avr,
        "activity_ratio": avr / n_units,
        "loss_ce": loss_ce,
        "loss_l1": loss_l1,
        "avr_train": avr * 1.05,
        "train_loss": loss_ce * 0.9,
    }
    if decoder:
        recon = 60 * np.exp(-3 * t) + 5 + 1e3 * l1
        curves["loss_recon"] = recon / 784
        curves["recon_error"] = recon
        curves["loss"] = loss_ce + loss_l1 + curves["loss_recon"]
    else:
        curves["loss"] = loss_ce + loss_l1
    final = {k: float(v[-1]) for k, v in curves.items()}
    final["n_units"] = n_units
    run_name = f"l1={l1:g}" + (f"-{decoder}" if decoder else "")
    return write_run(
        tmp / experiment / f"{run_name}.h5",
        config=config, experiment=experiment, run_name=run_name, seed=0, curves=curves,
        final=final, status=status, reason="synthetic failure" if status == "failed" else "",
        wall_time_s=12.5,
    )


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    res = tmp_path / "results"
    for l1, acc, avr in ((0.0, 0.978, 150.0), (1e-5, 0.975, 6.0), (1e-4, 0.966, 2.6)):
        _write(res, "fc_test", "fc", l1, acc_end=acc, avr_end=avr)
    for l1 in (0.0, 1e-4):
        for decoder in ("subpixel", "transposed"):
            _write(res, "ae_test", "conv-ae", l1, decoder=decoder, n_units=39200,
                   acc_end=0.985, avr_end=9000.0 if l1 == 0 else 120.0)
    # a failed run, of an experiment of its own and of an fc lambda: must be ignored everywhere
    _write(res, "broken", "fc", 5e-4, status="failed")
    _write(res, "fc_test", "fc", 2.7e-3, status="failed")
    return res


EXPECTED = {f"{e}_{w}.{x}" for e in ("fc_test", "ae_test") for w in ("curves", "tradeoff")
            for x in ("png", "svg")}


@pytest.mark.slow
def test_draws_every_figure(results: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    paths = draw_article_figures(results, out, formats=("png", "svg"))
    assert {p.name for p in paths} == EXPECTED
    assert {p.name for p in out.iterdir()} == EXPECTED
    for p in paths:
        assert p.stat().st_size > 1000, p
    assert (out / "fc_test_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # SVG text is kept as text: axis labels, legend and title can be read from it
    svg = (out / "fc_test_tradeoff.svg").read_text()
    for text in ("test accuracy", "AVR (active units per image", "article (2016)", "λ=1e-05",
                 "fc_test", "784"):
        assert text in svg, text
    svg = (out / "ae_test_curves.svg").read_text()
    for text in ("iteration", "test accuracy", "loss", "AVR (active units per image)",
                 "reconstruction error", "decoder: subpixel", "decoder: transposed", "39,200"):
        assert text in svg, text


def _legend(fig):
    (legend,) = list(fig.legends) + [a.get_legend() for a in fig.axes if a.get_legend()]
    return legend


def test_axes_are_labelled(results: Path) -> None:
    figs = make_figures(results)
    assert set(figs) == {"fc_test_curves", "fc_test_tradeoff", "ae_test_curves", "ae_test_tradeoff"}
    fc_axes = figs["fc_test_curves"].axes
    assert len(fc_axes) == 3
    assert [a.get_ylabel() for a in fc_axes] == ["test accuracy", "test loss",
                                                "AVR (active units per image)"]
    assert all(a.get_xlabel() == "iteration" for a in fc_axes)
    assert fc_axes[2].get_yscale() == "log"
    ae_axes = figs["ae_test_curves"].axes
    assert len(ae_axes) == 4 and "reconstruction error" in ae_axes[3].get_ylabel()
    # recon_error is a per-pixel squared error on the 0-255 scale after quantisation (the
    # stored quantity, models/relu_l1.py), never "per image"; the loss's term is per image
    ylabel = " ".join(ae_axes[3].get_ylabel().split())
    assert "per pixel, 0-255 scale, after quantisation" in ylabel and "per image" not in ylabel
    assert "summed squared error per image, pixels on [0, 1]" in ae_axes[1].get_title()
    # conv-ae: one line per lambda and decoder, solid subpixel, dashed transposed
    styles = {line.get_linestyle() for line in ae_axes[0].get_lines()}
    assert styles == {"-", "--"} and len(ae_axes[0].get_lines()) == 4
    for name in ("fc_test_tradeoff", "ae_test_tradeoff"):
        (ax,) = figs[name].axes
        assert ax.get_xscale() == "log"
        assert ax.get_xlabel().startswith("AVR (active units per image")
        assert ax.get_ylabel() == "test accuracy"
    for fig in figs.values():
        assert fig._suptitle is not None and fig._suptitle.get_text()
        legend = _legend(fig)
        assert any(t.get_text().startswith("λ=") for t in legend.get_texts())
    # fc trade-off: one label per run of ours plus the article's points, hollow
    ax = figs["fc_test_tradeoff"].axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert labels.count("λ=1e-05") == 1 and "λ=2.7e-03" in labels  # article-only lambda labelled
    legend_texts = [t.get_text() for t in _legend(figs["fc_test_tradeoff"]).get_texts()]
    assert "article (2016)" in legend_texts


def test_lambda_colour_fixed_across_figures(results: Path) -> None:
    figs = make_figures(results)
    colours = {}
    for name in ("fc_test_curves", "ae_test_curves"):
        legend = _legend(figs[name])
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True):
            if text.get_text().startswith("λ="):
                colours.setdefault(text.get_text(), set()).add(handle.get_color())
    assert colours["λ=0"] and all(len(c) == 1 for c in colours.values())
    pal = lambda_colours([0.0, 1e-5, 1e-4])
    assert len(set(pal.values())) == 3
    assert len(set(lambda_colours(np.logspace(-6, -2, 12)).values())) == 12


@pytest.mark.slow
def test_failed_runs_are_ignored(results: Path, tmp_path: Path) -> None:
    paths = draw_article_figures(results, tmp_path / "figs")
    assert not any("broken" in p.name for p in paths)
    rows = summary_table(results)
    assert {r["experiment"] for r in rows} == {"fc_test", "ae_test"}
    assert 2.7e-3 not in [r["lambda"] for r in rows]
    assert len(rows) == 3 + 4


def test_empty_or_failed_only_dir_raises(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no complete runs of the article's networks under .*neurocode run"):
        draw_article_figures(empty, tmp_path / "figs")
    with pytest.raises(ValueError, match="no complete runs"):
        summary_table(tmp_path / "does-not-exist")
    failed_only = tmp_path / "failed"
    _write(failed_only, "fc_x", "fc", 1e-5, status="failed")
    with pytest.raises(ValueError, match="no complete runs"):
        make_figures(failed_only)


def test_summary_table_rows(results: Path) -> None:
    rows = summary_table(results)
    keys = [(r["experiment"], r["decoder"] or "", r["lambda"]) for r in rows]
    assert keys == sorted(keys)
    fc = [r for r in rows if r["experiment"] == "fc_test"]
    assert [r["lambda"] for r in fc] == [0.0, 1e-5, 1e-4]
    r = fc[1]
    assert r["accuracy"] == pytest.approx(0.975, abs=0.01)
    assert r["iterations"] == 400 and r["seed"] == 0 and r["wall_time_s"] == 12.5
    assert r["recon_error"] is None and r["decoder"] is None
    assert r["activity_ratio"] == pytest.approx(r["avr"] / 784)
    assert r["avr_train"] == pytest.approx(r["avr"] * 1.05)
    ae = [r for r in rows if r["experiment"] == "ae_test"]
    assert [(r["decoder"], r["lambda"]) for r in ae] == [
        ("subpixel", 0.0), ("subpixel", 1e-4), ("transposed", 0.0), ("transposed", 1e-4)]
    assert all(r["recon_error"] is not None for r in ae)


def test_markdown_table_puts_article_beside_ours(results: Path) -> None:
    rows = summary_table(results)
    fc_rows = [r for r in rows if r["experiment"] == "fc_test"]
    md = format_markdown_table(fc_rows)
    lines = md.strip().splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["λ", "accuracy", "AVR (test)", "AVR (train batch)", "activity ratio",
                      "wall time s", "article accuracy", "article AVR"]
    row = next(line for line in lines if line.startswith("| 1e-05 "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    ours = fc_rows[1]
    assert cells[1] == f"{ours['accuracy']:.4f}" and cells[2] == f"{ours['avr']:.2f}"
    assert cells[6:] == ["0.9743", "5.41"]
    row0 = next(line for line in lines if line.startswith("| 0 "))
    assert row0.rstrip().endswith("| 0.9792 | 156.3 |")
    # without the article: no article columns
    assert "0.9743" not in format_markdown_table(fc_rows, article=False)
    # all rows: experiment and decoder columns, recon error for conv-ae
    md_all = format_markdown_table(rows)
    header = [c.strip() for c in md_all.splitlines()[0].strip("|").split("|")]
    assert header[:2] == ["experiment", "decoder"] and RECON_HEADER in header
    # the column says which reconstruction error it is: the stored recon_error's scale
    assert "0-255" in RECON_HEADER and "quantisation" in RECON_HEADER
    assert md_all.count("\n| ") == len(rows)  # data rows (header is first, separator is "|---")


def test_article_constants() -> None:
    assert ARTICLE_FC_POINTS[1e-5] == (0.9743, 5.41)
    assert ARTICLE_FC_POINTS[0] == (0.9792, 156.3)
    assert len(ARTICLE_FC_POINTS) == 7
    assert sorted(r.avr for r in ARTICLE_CNN_REFERENCES) == [146.2, 10932.0]
    assert all(r.accuracy is None for r in ARTICLE_CNN_REFERENCES)
    assert [format_lambda(x) for x in (0, 1e-5, 5e-4, 2.7e-3)] == ["0", "1e-05", "5e-04", "2.7e-03"]


def test_cnn_reference_lines(tmp_path: Path) -> None:
    res = tmp_path / "res"
    _write(res, "cnn_test", "cnn", 0.0, n_units=39200, acc_end=0.99, avr_end=10000.0)
    _write(res, "cnn_test", "cnn", 1e-4, n_units=39200, acc_end=0.985, avr_end=150.0)
    figs = make_figures(res)
    texts = [t.get_text() for t in figs["cnn_test_tradeoff"].axes[0].texts]
    assert any("10932" in t for t in texts) and any("146.2" in t for t in texts)
    texts = [t.get_text() for t in figs["cnn_test_curves"].axes[2].texts]
    assert any("10932" in t for t in texts)
    md = format_markdown_table(summary_table(res))
    row0 = next(line for line in md.splitlines() if line.startswith("| 0 "))
    assert row0.rstrip().endswith("| — | 10932.0 |")  # article AVR only, no invented accuracy
    assert "146.2" in md
    assert json.loads(json.dumps(summary_table(res)))  # rows are JSON-serialisable
