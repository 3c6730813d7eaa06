"""The report: files, content, escaping, determinism, the CLI, and the page in a real browser."""

from __future__ import annotations

import base64
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from neurocode.claims import CLAIMS, VERDICTS
from neurocode.cli import main
from neurocode.report import ReportError, write_report
from neurocode.store import write_battery, write_run

ODD_LABEL = "odd<b>&\"label\""


def _png(path: Path, w: int = 3, h: int = 2) -> None:
    """A valid RGB PNG of w x h pixels, written by hand (no plotting library)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * w for _ in range(h))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _fc_run(results: Path, l1: float, avr: float, acc: float, name: str, seed: int = 0,
            experiment: str = "article_fc") -> Path:
    n = 784
    steps = np.arange(0, 300, 100)
    path = write_run(results / "article_fc" / f"{name}-s{seed}-{len(experiment)}.h5",
                     config={"model": {"rule": "relu-l1-fc", "hidden": n, "l1": l1},
                             "seed": seed, "train": {"iterations": 300}},
                     experiment=experiment, run_name=name, seed=seed,
                     curves={"step": steps, "accuracy": np.linspace(0.5, acc, len(steps)),
                             "avr": np.linspace(300, avr, len(steps))},
                     final={"accuracy": acc, "avr": avr, "activity_ratio": avr / n,
                            "n_units": float(n)})
    write_battery(path, {"activity": {"avr": avr, "n_units": float(n), "activity_ratio": avr / n,
                                      "dead_fraction": 0.0, "code_type": "x"},
                         "fault": {"auc_random": 0.5 + avr / n, "accuracy_intact": acc},
                         "overlap": {"jaccard_between": avr / n},
                         "decoding": {"m_fraction_90": 0.1, "active_synapses_ratio": avr / n,
                                      "curve": np.arange(3.0)}})
    return path


@pytest.fixture
def results(tmp_path) -> Path:
    res = tmp_path / "results"
    for seed, jitter in enumerate((0.0, 0.001, -0.001)):   # three seeds: the design's least
        _fc_run(res, 0.0, 150.0 + 10 * jitter, 0.98 + jitter, "l1=0", seed)
        _fc_run(res, 1e-4, 5.0 + jitter, 0.975 + jitter, "l1=0.0001", seed)
        _fc_run(res, 3e-3, 1.8, 0.90 + jitter, "l1=0.003", seed)
    _fc_run(res, 5e-3, 0.5, 0.2, "l1=0.005")                # did not learn: excluded
    _fc_run(res, 1e-3, 3.0, 0.95, "odd", experiment=ODD_LABEL)  # a name that needs escaping
    return res


@pytest.fixture
def figures(tmp_path) -> Path:
    figs = tmp_path / "figs"
    figs.mkdir()
    for stem in ("article_fc_tradeoff", "article_fc_curves", "summary_properties",
                 "article_fc_battery", "article_fc_l1=0_fields", "unrelated_figure"):
        _png(figs / f"{stem}.png")
    return figs


def test_report_files_every_claim_with_a_verdict(results, figures, tmp_path):
    out = tmp_path / "report"
    html_path, md_path = write_report(results, out, figures_dir=figures)
    assert html_path == out / "index.html" and md_path == out / "report.md"
    page, md = html_path.read_text(), md_path.read_text()
    for c in CLAIMS:
        m = re.search(rf'<h2 id="claim-{c.id}">Claim {c.id}: [^<]*<span class="badge [^"]*" '
                      rf'data-verdict="([^"]+)"', page)
        assert m and m.group(1) in VERDICTS, c.id
        mm = re.search(rf"^## Claim {c.id}: .*\*\*\S+ ({'|'.join(VERDICTS)})\*\*$", md, re.M)
        assert mm and mm.group(1) == m.group(1), c.id  # the twin says the same
    # the ledger: one row per claim, each with a verdict badge
    ledger = page.split('<table class="ledger">')[1].split("</table>")[0]
    assert len(re.findall(r"data-verdict=", ledger)) == len(CLAIMS)
    # claims 1-3 are decidable from these FC runs by construction
    assert re.search(r'id="claim-1">[^<]*<span [^>]*data-verdict="supported"', page)
    assert re.search(r'id="claim-3">[^<]*<span [^>]*data-verdict="supported"', page)
    # each claim states its design, null and effect with an interval, and its sensitivity
    claim3 = md.split("## Claim 3:")[1].split("## Claim 4:")[0]
    assert "Design: " in claim3 and "paired with lambda = 0 on the same seeds" in claim3
    assert "Null: " in claim3 and re.search(r"Effect: .*\\\[[-\d.e]+, [-\d.e]+\\\]", claim3)
    assert "MAX\\_ACCURACY\\_DROP" in claim3 and ("stable" in claim3 or "moves" in claim3)
    # the run that did not learn is named, with the reason, and kept out
    assert "did not learn: test accuracy 0.2" in md
    # runs covered: the experiment, rule, count, budget; the budget on the first screen
    assert "article_fc" in page and "relu-l1-fc" in page and "300 iterations" in md
    assert "the FC net trained 300 of the article's 20,000 iterations (3 seeds)" in md


def test_report_is_self_contained_escaped_and_deterministic(results, figures, tmp_path):
    out = tmp_path / "report"
    html_path, md_path = write_report(results, out, figures_dir=figures)
    page = html_path.read_text()
    # only the figures the report shows are copied (for the Markdown twin); the page embeds
    # each of them as a data URI, so index.html alone is the whole report
    copied = sorted(p.name for p in (out / "figures").iterdir())
    assert copied == ["article_fc_battery.png", "article_fc_curves.png",
                      "article_fc_l1=0_fields.png", "article_fc_tradeoff.png",
                      "summary_properties.png"]
    srcs = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page)
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s, _ in srcs}
    assert all(s.startswith("data:image/png;base64,") for s, _ in srcs)
    assert embedded == {(out / "figures" / n).read_bytes() for n in copied}
    assert all(alt.startswith("Figure: ") for _, alt in srcs)
    assert sorted(re.findall(r"\]\((figures/[^)]+)\)", md_path.read_text())) == \
        sorted({f"figures/{n}" for n in copied})
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page
    # text is escaped: the odd run label never appears raw
    assert ODD_LABEL not in page
    assert "odd&lt;b&gt;&amp;&quot;label&quot;" in page
    assert "odd\\<b\\>&\"label\"" in md_path.read_text()
    # deterministic
    first = (page, md_path.read_text())
    write_report(results, out, figures_dir=figures)
    assert (html_path.read_text(), md_path.read_text()) == first


def test_report_errors(tmp_path, figures):
    with pytest.raises(ReportError, match="no such results folder"):
        write_report(tmp_path / "missing", tmp_path / "r")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="no complete run"):
        write_report(tmp_path / "empty", tmp_path / "r")


def test_cli_report_exit_codes(results, figures, tmp_path, capsys):
    out = tmp_path / "cli_report"
    assert main(["report", str(results), "--out", str(out), "--figures", str(figures)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == str(out / "index.html") and printed[1] == str(out / "report.md")
    assert re.fullmatch(r"12 claims: \d+ supported, \d+ partly, \d+ not supported, "
                        r"\d+ not tested", printed[2])
    assert sum(int(n) for n in re.findall(r"(\d+) (?:supported|partly|not)", printed[2])) == 12

    assert main(["report", str(tmp_path / "missing"), "--out", str(out)]) == 1
    assert "no such results folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--out", str(out)]) == 1
    assert "no complete run" in capsys.readouterr().err
    assert main(["report", str(results), "--out", str(out), "--figures",
                 str(tmp_path / "nofigs")]) == 1
    assert "no such figures folder" in capsys.readouterr().err


_PROBE = """<script>
window.addEventListener('load', function () {
  var out = document.createElement('div'); out.id = 'probe';
  document.querySelectorAll('img').forEach(function (img) {
    var d = document.createElement('i'); d.className = 'img';
    d.setAttribute('data-src', img.getAttribute('src'));
    d.setAttribute('data-w', String(img.complete ? img.naturalWidth : -1));
    out.appendChild(d);
  });
  document.querySelectorAll('table.ledger tbody tr').forEach(function (tr) {
    var b = tr.querySelector('[data-verdict]'); var d = document.createElement('i');
    d.className = 'row'; d.setAttribute('data-v', b ? b.textContent : '');
    out.appendChild(d);
  });
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.slow
def test_report_page_in_headless_chromium(results, figures, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (CI installs it: .ci/run)")
    out = tmp_path / "report"
    html_path, _ = write_report(results, out, figures_dir=figures)
    page = html_path.read_text()
    # a copy beside index.html (same relative figure paths) with a probe that records, after
    # the load event, each image's naturalWidth and each ledger row's verdict into the DOM
    probe = out / "_probe.html"
    probe.write_text(page.replace("</body>", _PROBE + "</body>"))
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-extensions", "--allow-file-access-from-files", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=60)
    dom = proc.stdout
    assert 'id="probe"' in dom, proc.stderr[-2000:]
    imgs = re.findall(r'<i class="img" data-src="([^"]+)" data-w="(-?\d+)"', dom)
    assert len(imgs) == page.count("<img ") > 0
    assert all(int(w) > 0 for _, w in imgs), imgs  # every figure loaded
    rows = re.findall(r'<i class="row" data-v="([^"]*)"', dom)
    assert len(rows) == len(CLAIMS)
    assert all(any(v.endswith(word) for word in VERDICTS) for v in rows), rows
