"""Config -> runs -> store: run every point of a sweep, skipping runs already complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from neurocode import store
from neurocode.config import RunSpec


@dataclass
class SweepSummary:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{len(self.done)} done, {len(self.skipped)} skipped (already complete), "
               f"{len(self.failed)} failed"]
        out += [f"  failed: {p.name}: {why}" for p, why in self.failed]
        return out


def run_path(out_dir: str | Path, spec: RunSpec) -> Path:
    """Where a run's file lives: ``OUT/<experiment>/<label>-<config hash>.h5``."""
    return Path(out_dir) / spec.experiment / spec.filename


def _tensorboard_writer(tb_dir: str | Path | None, spec: RunSpec):
    if tb_dir is None:
        return None
    from torch.utils.tensorboard import SummaryWriter  # needs the 'tensorboard' extra

    return SummaryWriter(str(Path(tb_dir) / spec.experiment / spec.label))


def tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def run_sweep(
    specs: list[RunSpec],
    out_dir: str | Path,
    *,
    device: str = "cpu",
    progress: bool | None = None,
    tensorboard_dir: str | Path | None = None,
    echo: Callable[[str], None] = print,
) -> SweepSummary:
    """Run each spec whose complete file does not exist yet; store each as it finishes.

    A run that diverges is stored with status "failed" and the sweep goes on. An interrupt
    (Ctrl-C) propagates after the runs already finished are safely on disk; the run in progress
    leaves at most a ``.partial`` file, which the next attempt overwrites.
    """
    from neurocode.train import train_relu_l1

    summary = SweepSummary()
    for i, spec in enumerate(specs, 1):
        path = run_path(out_dir, spec)
        if store.is_complete(path):
            summary.skipped.append(path)
            echo(f"[{i}/{len(specs)}] {spec.experiment} {spec.label}: already complete, skipped")
            continue
        writer = _tensorboard_writer(tensorboard_dir, spec)

        def on_eval(step: int, row: dict, writer=writer) -> None:
            if writer is not None:
                writer.add_scalar("accuracy", row["accuracy"], step)
                writer.add_scalar("loss", row["loss"], step)
                writer.add_scalar("AverageDensity", row["avr_train"], step)
                writer.add_scalar("AverageDensity_test", row["avr"], step)

        timer = store.Timer()
        try:
            result = train_relu_l1(spec, device=device, progress=progress, on_eval=on_eval)
        finally:
            if writer is not None:
                writer.close()
        store.write_run(
            path, config=spec.config, experiment=spec.experiment, run_name=spec.label,
            seed=spec.config["seed"], curves=result.curves, final=result.final,
            weights=result.weights, status=result.status, reason=result.reason,
            wall_time_s=timer.elapsed,
        )
        f = result.final
        if result.status == "complete":
            summary.done.append(path)
            recon = f" recon_error={f['recon_error']:.3f}" if "recon_error" in f else ""
            echo(f"[{i}/{len(specs)}] {spec.experiment} {spec.label}: accuracy={f['accuracy']:.4f} "
                 f"AVR={f['avr']:.2f}{recon} ({timer.elapsed:.0f} s) -> {path}")
        else:
            summary.failed.append((path, result.reason))
            echo(f"[{i}/{len(specs)}] {spec.experiment} {spec.label}: FAILED: {result.reason}")
    return summary
