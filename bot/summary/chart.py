"""A summary as one picture to forward in a chat: who has reported, per upper level, and each target
against its threshold.

matplotlib's object API on the Agg backend (no display, no pyplot state shared between threads).
DejaVu Sans, which ships with matplotlib, has every Vietnamese glyph.
"""

from __future__ import annotations

import textwrap
import warnings
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.i18n import Translator
from bot.summary.model import Summary, TargetResult
from bot.summary.wording import target_threshold, target_value, verdict

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

matplotlib.use("Agg")

WIDTH_IN, DPI = 14.0, 110  # 1540 pixels wide; 550 to 990 high, after the number of rows
MAX_UPPERS = 18  # more would not be legible: the ones furthest behind are shown
MAX_TARGETS = 8
ON_TIME, LATE, MISSING = "#2e7d32", "#f2a900", "#e3e3e3"
MET, NOT_MET, UNKNOWN, THRESHOLD = "#2e7d32", "#c62828", "#9e9e9e", "#222222"
MIN_ROWS = 4  # a few upper levels still get bars of a normal thickness
TARGET_SLOTS = 4
# Names as they are usually shortened, so that a label fits beside its bar.
SHORT_NAMES = (("Liên đoàn Lao động", "LĐLĐ"), ("Công đoàn", "CĐ"))
FONT: dict[RcKeyType, Any] = {"font.family": "DejaVu Sans", "font.size": 10, "axes.titlesize": 11}


def _wrap(text: str, width: int, lines: int = 2) -> str:
    return "\n".join(textwrap.wrap(text, width, max_lines=lines, placeholder="…"))


def _short(name: str) -> str:
    for long, short in SHORT_NAMES:
        name = name.replace(long, short)
    return name


def _completeness_panel(fig: Figure, summary: Summary, t: Translator) -> None:
    ax = fig.subplots()
    uppers = summary.uppers
    if len(uppers) > MAX_UPPERS:
        uppers = summary.furthest_behind(MAX_UPPERS)
        ax.set_title(t("The {n} upper-level unions furthest behind", n=MAX_UPPERS), loc="left", fontsize=10,
                     color="#555555")
    rows = [(t("All units"), summary.expected, summary.on_time, summary.late, summary.completeness)]
    rows += [(u.name, u.expected, u.on_time, u.late, u.completeness) for u in uppers]
    labels, on_time, late, rest = [], [], [], []
    for name, expected, ok, lt, _share in rows:
        labels.append(_wrap(_short(name), 32))
        on_time.append(ok * 100 / expected if expected else 0)
        late.append(lt * 100 / expected if expected else 0)
        rest.append(100 - on_time[-1] - late[-1] if expected else 100)
    y = list(range(len(rows)))
    height = 0.62
    ax.barh(y, on_time, height, color=ON_TIME, label=t("On time"))
    ax.barh(y, late, height, left=on_time, color=LATE, label=t("Late"))
    ax.barh(y, rest, height, left=[a + b for a, b in zip(on_time, late, strict=True)], color=MISSING,
            label=t("Not reported"))
    for i, (_name, expected, ok, lt, share) in enumerate(rows):
        text = t.number(ok + lt) + "/" + t.number(expected) + " · " + t.percent(share)
        ax.text(101.5, i, text, va="center", fontsize=9, fontweight="bold" if i == 0 else "normal", clip_on=False)
    ax.set_yticks(y, labels, fontsize=8.5 if len(rows) > 10 else 9.5)
    ax.get_yticklabels()[0].set_fontweight("bold")
    ax.set_ylim(max(len(rows), MIN_ROWS) - 0.5, -0.5)  # first row on top
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: t.percent(Decimal(str(round(v))))))
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=3, frameon=False, fontsize=9)
    fig.suptitle(t("Reports by upper-level union"), x=0.02, ha="left", fontsize=12, fontweight="bold")


def _target_axis(ax: Axes, r: TargetResult, t: Translator) -> None:
    g = r.target
    percent = g.unit == "%"
    value = float(r.value) if r.value is not None else 0.0
    threshold = float(g.threshold)
    top = max(100.0, value, threshold) * 1.03 if percent else max(value, threshold, 1.0) * 1.15
    color = UNKNOWN if r.met is None else (MET if r.met else NOT_MET)
    ax.barh([0], [top], 0.5, color="#f2f2f2")
    ax.barh([0], [value], 0.5, color=color)
    ax.plot([threshold, threshold], [-0.48, 0.48], color=THRESHOLD, linewidth=2.5, solid_capstyle="butt")
    shown = target_value(t, r, missing=t("no figures yet"))
    limit = target_threshold(t, r)
    result = " · ".join(x for x in (shown, t("target {limit}", limit=limit), verdict(t, r)) if x)
    if r.units_meeting is not None and percent:
        result += " (" + t("{n}/{m} units", n=t.number(r.units_meeting), m=t.number(r.units_in_scope)) + ")"
    ax.set_title(_wrap(g.label.get(t.locale), 75), loc="left", fontsize=9.5)
    ax.set_xlabel(result, loc="left", fontsize=9.5, fontweight="bold", color=color, labelpad=2)
    ax.set_xlim(0, top)
    ax.set_ylim(-0.5, 0.5)
    ax.set_yticks([])
    fmt = (lambda v, _pos: t.percent(Decimal(str(round(v))))) if percent else (lambda v, _pos: t.number(round(v)))
    ax.xaxis.set_major_formatter(FuncFormatter(fmt))
    if percent:
        ax.set_xticks([0, 50, 100])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    ax.tick_params(axis="x", labelsize=8, length=2, pad=1)
    ax.spines[["top", "right", "left"]].set_visible(False)


def _targets_panel(fig: Figure, summary: Summary, t: Translator) -> None:
    title = t("Targets against thresholds")
    if len(summary.targets) > MAX_TARGETS:
        title += " (" + t("and {n} more targets", n=len(summary.targets) - MAX_TARGETS) + ")"
    fig.suptitle(title, x=0.02, ha="left", fontsize=12, fontweight="bold")
    targets = summary.targets[:MAX_TARGETS]
    if not targets:
        fig.text(0.5, 0.5, t("No targets in this period."), ha="center", va="center", fontsize=11, color="#555555")
        return
    axes = fig.subplots(max(len(targets), TARGET_SLOTS), 1, squeeze=False)[:, 0]
    for ax, r in zip(axes, targets, strict=False):
        _target_axis(ax, r, t)
    for ax in axes[len(targets):]:
        ax.set_visible(False)
    fig.legend(handles=[Line2D([], [], color=THRESHOLD, linewidth=2.5, label=t("Threshold")),
                        Patch(color=MET, label=t("Met")), Patch(color=NOT_MET, label=t("Not met"))],
               loc="outside lower center", ncol=3, frameon=False, fontsize=9)


def write_summary_png(path: Path, summary: Summary, t: Translator, zone: ZoneInfo) -> None:
    with matplotlib.rc_context(FONT), warnings.catch_warnings():
        # A unit name with an emoji must not stop the chart: the glyph is left out.
        warnings.filterwarnings("ignore", r"Glyph .* missing from font", UserWarning)
        rows = max(min(len(summary.uppers), MAX_UPPERS) + 1, MIN_ROWS, 1.6 * min(len(summary.targets), MAX_TARGETS))
        height = min(9.0, max(5.0, 2.4 + 0.4 * rows))
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
        title = summary.campaign.title.get(t.locale) + " — " + summary.period.name.get(t.locale)
        fig.suptitle(_wrap(title, 120), fontsize=15, fontweight="bold")
        left, right = fig.subfigures(1, 2, squeeze=False, width_ratios=[1.25, 1], wspace=0.04)[0]
        _completeness_panel(left, summary, t)
        _targets_panel(right, summary, t)
        fig.supxlabel(t("Scope: {scope}", scope=summary.scope_name) + " · "
                      + t("Figures as of {when}", when=t.datetime(summary.as_of, zone)), fontsize=9, color="#555555")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI, format="png", facecolor="white")
