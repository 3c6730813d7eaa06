"""The figure toolkit (neurocode.figures.style): the one save function writes atomically and
writes what matplotlib's own ``savefig`` writes; one palette; every figure reads runs through
the one reader (neurocode.results.load_results) and saves through the one save function.

The atomic-write checks make ``savefig`` fail half way (a full disk, a read-only file system)
and look at the folder afterwards: no truncated file, no temporary, the old figure intact.
"""

from __future__ import annotations

import ast
import errno
import re
from pathlib import Path

import pytest
from matplotlib import colormaps, rc_context
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from neurocode.figures import style
from neurocode.figures.style import (
    DPI,
    LAMBDA_COLOURS,
    OKABE_ITO,
    FigureWriteError,
    save_figures,
    sequence_colours,
)

FIGURES = Path(style.__file__).resolve().parent


def _figure() -> Figure:
    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [1, 0, 1], label="a line")
    ax.set_title("toolkit λ")
    ax.legend()
    return fig


def _fail_mid_write(monkeypatch, exc: BaseException) -> list[str]:
    """Make the disk fail half way through writing a figure: the store's atomic writer (the
    one every figure goes through) writes a few bytes to its partial file, then ``os.write``
    raises ``exc``; the names of the files written to."""
    import os

    seen: list[str] = []
    real = os.write

    def write(fd, data):
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd, bytes(data[:8]))
        raise exc

    monkeypatch.setattr(os, "write", write)
    return seen


def test_save_writes_the_bytes_of_matplotlibs_own_savefig(tmp_path):
    fig = _figure()
    paths = save_figures({"one fig/x": fig}, tmp_path / "out", formats=("png", "svg"))
    assert [p.name for p in paths] == ["one_fig_x.png", "one_fig_x.svg"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one_fig_x.png",
                                                                    "one_fig_x.svg"]
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "neurocode"}):
        fig.savefig(tmp_path / "direct.png", dpi=150, format="png")
        fig.savefig(tmp_path / "direct.svg", dpi=150, format="svg", metadata={"Date": None})
    assert paths[0].read_bytes() == (tmp_path / "direct.png").read_bytes()
    assert paths[1].read_bytes() == (tmp_path / "direct.svg").read_bytes()
    assert DPI == 150
    svg = paths[1].read_text()
    assert "toolkit λ" in svg and "<dc:date>" not in svg   # text as text, no date


def test_a_full_disk_mid_write_leaves_no_file_and_names_the_path(tmp_path, monkeypatch):
    fig = _figure()
    out = tmp_path / "figs"
    seen = _fail_mid_write(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(FigureWriteError) as info:
        save_figures({"full": fig}, out)
    monkeypatch.undo()
    err = info.value
    assert isinstance(err, OSError) and err.errno == errno.ENOSPC
    assert str(out / "full.png") in str(err)
    assert "no space left on device" in str(err)
    assert "--out" in str(err)                                       # what to do about it
    assert seen and Path(seen[0]).parent == out and seen[0] != str(out / "full.png")
    assert list(out.iterdir()) == []                                  # no figure, no temporary


def test_a_failed_redraw_keeps_the_old_figure_whole(tmp_path, monkeypatch):
    out = tmp_path / "figs"
    first = save_figures({"kept": _figure()}, out)
    before = {p.name: p.read_bytes() for p in first}
    fig = _figure()
    _fail_mid_write(monkeypatch, OSError(errno.EROFS, "Read-only file system"))
    with pytest.raises(FigureWriteError, match="read-only file system") as info:
        save_figures({"kept": fig}, out)
    monkeypatch.undo()
    assert str(out / "kept.png") in str(info.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_error_that_is_not_the_disks_propagates_and_leaves_no_temporary(tmp_path,
                                                                           monkeypatch):
    fig = _figure()
    _fail_mid_write(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        save_figures({"x": fig}, tmp_path)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_that_cannot_be_made_is_named(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(FigureWriteError, match="figures folder") as info:
        save_figures({"x": _figure()}, blocker / "sub")
    assert str(blocker / "sub") in str(info.value)


def test_one_palette_the_lambdas_are_its_colours_in_another_order():
    assert len(OKABE_ITO) == 8 and len(set(OKABE_ITO)) == 8
    assert sorted(LAMBDA_COLOURS) == sorted(OKABE_ITO)
    assert LAMBDA_COLOURS[0] == "#000000" and LAMBDA_COLOURS[-1] == "#F0E442"
    assert sequence_colours(8) == list(OKABE_ITO)
    assert sequence_colours(3, LAMBDA_COLOURS) == list(LAMBDA_COLOURS[:3])
    many = sequence_colours(11)
    viridis = colormaps["viridis"]
    assert many[0] == to_hex(viridis(0.0)) and many[-1] == to_hex(viridis(0.92))
    assert len(set(many)) == 11


def _hex_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", n.value)]


def test_no_figure_module_keeps_a_palette_of_its_own():
    for path in sorted(FIGURES.glob("*.py")):
        if path.name == "style.py":
            continue
        found = _hex_literals(path)
        assert not set(map(str.upper, found)) & set(OKABE_ITO), (path.name, found)
        assert len(found) <= 2, (path.name, found)   # a table's white and grey, no palette


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out += [(node.module, a.name) for a in node.names]
    return out


def test_every_figure_reads_runs_through_the_one_reader_and_saves_through_style():
    readers = {"iter_runs", "read_battery", "RunRecord"}
    for path in sorted(FIGURES.glob("*.py")):
        names = _imports(path)
        store = {name for module, name in names if module == "neurocode.store"}
        assert not store & readers, (path.name, store)
        # the run file's attributes (wall time) are not in RunResult: article reads only them;
        # style saves through the store's one atomic writer
        allowed = {"article.py": {"StoreError", "read_run"},
                   "style.py": {"StorageError", "write_file_atomic"}}
        assert store <= allowed.get(path.name, {"StoreError"}), (path.name, store)
        saves = {module for module, name in names if name == "save_figures"}
        assert saves <= {"neurocode.figures.style"}, (path.name, saves)
        if path.name != "style.py":
            assert "savefig(" not in path.read_text(encoding="utf-8"), path.name
        assert not re.search(r"\bdefault_rng\b|np\.random\.|\brandom_codes\(",
                             path.read_text(encoding="utf-8")), path.name


def test_every_figure_module_draws_with_the_one_readers_runs(tmp_path, monkeypatch):
    """The article, battery and fields figures call load_results (counted), not the store."""
    import neurocode.results as results
    from neurocode.figures import article, battery, fields

    calls: list[str] = []
    real = results.load_results

    def counting(*args, **kwargs):
        calls.append("load_results")
        return real(*args, **kwargs)

    monkeypatch.setattr(article, "load_results", counting)
    monkeypatch.setattr(battery, "load_results", counting)
    monkeypatch.setattr(results, "load_results", counting)   # fields imports it when called
    with pytest.raises(ValueError, match="no complete runs"):
        article.make_figures(tmp_path)
    assert battery.battery_figures(tmp_path) == {}
    assert fields.fields_figures(tmp_path) == {}
    assert calls == ["load_results"] * 3


def test_short_reason_names_the_two_exclusions():
    assert style.short_reason("silent code: no unit active") == "silent code"
    assert style.short_reason("did not learn: test accuracy 0.2 < 0.5") == "did not learn"
