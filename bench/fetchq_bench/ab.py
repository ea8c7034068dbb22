"""Interleaved A/B runs, for the comparisons this machine's drift (up to 3× within an hour) would
otherwise decide: A, B, A, B, ... in one bench run, each figure reported as the ratio of the two
runs of a pair and the median of those ratios, beside the medians of each side.
"""

import statistics

from .common import attempt, log, stats


def interleave(ctx, label, arms, one_run, describe):
    """`settings.pairs` rounds of one_run(arm, pair) for each arm in order; answers
    {arm: [result or None, one per pair]} (a failed run is recorded as an error and left None)."""
    runs = {arm: [] for arm in arms}
    for pair in range(ctx.settings.pairs):
        for arm in arms:
            res = attempt(ctx.results, f"{label} {arm} run {pair + 1}", lambda arm=arm, pair=pair: one_run(arm, pair))
            if res:
                log(f"{label} {arm} run {pair + 1}: {describe(res)}")
            runs[arm].append(res)
    return runs


def pair_ratios(runs, a, b, key):
    """runs[a][i][key] / runs[b][i][key] for each pair where both ran."""
    out = []
    for ra, rb in zip(runs[a], runs[b]):
        if ra and rb and ra.get(key) is not None and rb.get(key):
            out.append(ra[key] / rb[key])
    return out


def summary(runs, a, b, key):
    """Each side's stats of key, the ratios a ÷ b per pair and their median."""
    ratios = pair_ratios(runs, a, b, key)
    return {
        a: stats([r.get(key) for r in runs[a] if r]),
        b: stats([r.get(key) for r in runs[b] if r]),
        "ratios": ratios,
        "ratio": statistics.median(ratios) if ratios else None,
    }


def ratio_text(s, digits=3):
    if not s or s["ratio"] is None:
        return "—"
    pairs = ", ".join(f"{r:.{digits}f}" for r in s["ratios"])
    return f"**{s['ratio']:.{digits}f}** (pairs: {pairs})"


def runs_text(s, arm, digits=0):
    """Each run's figure on one side, in the order they ran."""
    if not s or not s.get(arm):
        return "—"
    return ", ".join(f"{v:,.{digits}f}" for v in s[arm]["runs"])
