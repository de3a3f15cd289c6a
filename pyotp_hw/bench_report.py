"""What a benchmark run measured, and how it is shown: plain and Markdown tables, JSON with the
machine and the floors, a bar chart."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import TypedDict

from . import bulk
from ._bench_floors import check_floors
from .bench_cases import DIGESTS
from .errors import MissingExtra
from .secret_files import check_output

__all__ = [
    "Machine",
    "Result",
    "machine",
    "format_table",
    "format_markdown",
    "to_json",
    "plotting",
    "check_plot_path",
    "plot",
]


@dataclass(frozen=True)
class Result:
    """The measured cost of one case."""

    group: str
    name: str
    kernel: str | None
    threads: int
    unit: str
    units: int
    ns_per_unit: float
    per_second: float
    ratio_to_pyotp: float | None
    baseline: str | None = None  # the group whose pyotp row the ratio is to, when not this one


class Machine(TypedDict):
    """What :func:`machine` reports: CPU model and count, Python version, the kernels."""

    cpu: str
    cpus: int
    python: str
    kernels: list[str]
    selected: dict[str, str]


def machine() -> Machine:
    """What the figures were measured on."""
    model = platform.processor() or platform.machine()
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break  # the first CPU's block is enough
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = fields.get("model name", model)
    if "cpu family" in fields and "model" in fields:
        # "AMD EPYC" alone does not tell Zen 3 (family 25) from Zen 5 (family 26).
        model += f" (family {fields['cpu family']}, model {fields['model']})"
    return {
        "cpu": model,
        "cpus": bulk._cpus(),
        "python": platform.python_version(),
        "kernels": bulk.implementations(),
        "selected": {d: bulk.kernel_name(d) for d in DIGESTS},
    }


def _si(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:.0f}"


def format_table(results: Sequence[Result]) -> str:
    """A plain-text table: one block per group, rows in the order they ran."""
    lines = []
    name_w = max((len(r.name) for r in results), default=10)
    header = f"  {'implementation':<{name_w}}  {'ns/unit':>10}  {'units/s':>9}  {'x pyotp':>8}"
    group = None
    for r in results:
        if r.group != group:
            group = r.group
            lines.append("")
            lines.append(f"{group} (per {r.unit}, {r.units:,} {r.unit}s per run)"
                         + (f"; x pyotp as in '{r.baseline}'" if r.baseline else ""))
            lines.append(header)
        ratio = "-" if r.ratio_to_pyotp is None else f"{r.ratio_to_pyotp:,.1f}"
        lines.append(f"  {r.name:<{name_w}}  {r.ns_per_unit:>10,.1f}  {_si(r.per_second):>9}"
                     f"  {ratio:>8}")
    return "\n".join(lines).lstrip("\n")


def format_markdown(results: Sequence[Result]) -> str:
    """The same table in Markdown (for bench/README.md)."""
    lines = ["| group | implementation | ns/unit | units/s | x pyotp |", "|---|---|---:|---:|---:|"]
    for r in results:
        ratio = "-" if r.ratio_to_pyotp is None else f"{r.ratio_to_pyotp:,.1f}"
        lines.append(f"| {r.group} (per {r.unit}) | {r.name} | {r.ns_per_unit:,.1f} | "
                     f"{_si(r.per_second)} | {ratio} |")
    return "\n".join(lines)


def to_json(results: Sequence[Result]) -> dict[str, object]:
    """Results and machine description as JSON-ready data."""
    return {"machine": machine(), "results": [asdict(r) for r in results],
            "floors": [c.to_json() for c in check_floors(results)]}


def plotting() -> ModuleType:
    """matplotlib's pyplot on a file-only backend; MissingExtra when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingExtra("plotting the benchmark", "plot", "matplotlib") from exc
    return plt


def check_plot_path(path: str) -> None:
    """Raise OutputFileError (one line) unless a chart can be written at ``path``.

    Called before the run, so that a mistyped folder costs seconds, not the whole benchmark.
    """
    check_output(path, replace=True)


def plot(results: Sequence[Result], path: str) -> None:
    """A horizontal bar chart of every row's speed relative to pyotp (log scale), per group."""
    plt = plotting()
    rows = [r for r in results if r.ratio_to_pyotp is not None]
    colours = {"pyotp": "#999999", "hmac": "#4c72b0", "cryptography": "#dd8452",
               "pyotp-hw": "#55a868"}
    labels, values, fills, ticks = [], [], [], []
    group = None
    for r in rows:
        if r.group != group:
            group = r.group
            labels.append(f"— {group} —")
            values.append(0.0)
            fills.append("white")
            ticks.append(True)
        labels.append(r.name)
        values.append(float(r.ratio_to_pyotp or 0.0))
        fills.append(colours.get(r.name.split(" ", 1)[0], "#8172b3"))
        ticks.append(False)
    height = max(4.0, 0.22 * len(labels) + 1.0)
    fig, ax = plt.subplots(figsize=(10, height))
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, [v if v > 0 else float("nan") for v in values], color=fills)
    ax.set_yticks(positions)
    ax.set_yticklabels(labels, fontsize=7)
    for tick, bold in zip(ax.get_yticklabels(), ticks, strict=True):
        if bold:
            tick.set_fontweight("bold")
    for pos, v in zip(positions, values, strict=True):
        if v > 0:
            ax.text(v, pos, f" {v:,.0f}x" if v >= 10 else f" {v:.1f}x", va="center", fontsize=6)
    ax.set_xscale("log")
    ax.set_xlabel("speed relative to pyotp (same work, one process, log scale)")
    info = machine()
    ax.set_title(f"pyotp-hw benchmark on {info['cpu']} ({info['cpus']} CPUs)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
