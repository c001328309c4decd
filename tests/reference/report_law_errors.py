"""Print the worst errors of levyscore's laws against tests/reference/law_reference.npz.

Run from the repository root: ``python tests/reference/report_law_errors.py``. The numbers
are the ones quoted in the closing notes and in docs/math.md; the assertions live in
tests/test_laws_reference.py.
"""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import test_laws_reference as T  # noqa: E402


def main():
    worst = {}
    for sid in T.SET_IDS:
        p, sel = T._set(sid)
        law = T._law(p)
        r = T.REF["r"][sel]
        y = r[:, None] * T._direction(p["D"])[None, :]
        lp = law.logpdf(y)
        s = law.score(y)
        h_ref = T.REF["h"][sel]
        lp_ref = T.REF["logpdf"][sel]
        e_h = np.max(np.abs(s + h_ref[:, None] * y).max(axis=1) / (h_ref * np.abs(y).max(axis=1)))
        e_lp = np.max(np.abs(lp - lp_ref) / np.maximum(1.0, np.abs(lp_ref)))
        ok = np.isfinite(T.REF["pdf"][sel]) & (T.REF["pdf"][sel] > T.TINY)
        e_pdf = np.max(np.abs(np.exp(lp[ok]) / T.REF["pdf"][sel][ok] - 1.0)) if ok.any() else 0.0
        e_cdf = np.max(np.abs(law.radial_cdf(r) - T.REF["radial_cdf"][sel]))
        w = worst.setdefault(p["route"], dict(score=0.0, logpdf=0.0, pdf=0.0, cdf=0.0, n=0))
        w["score"] = max(w["score"], e_h)
        w["logpdf"] = max(w["logpdf"], e_lp)
        w["pdf"] = max(w["pdf"], e_pdf)
        w["cdf"] = max(w["cdf"], e_cdf)
        w["n"] += len(sel)
    print("route  points  score(rel)  logpdf(abs/max(1,|.|))  pdf(rel)  radial_cdf(abs)")
    for route in sorted(worst):
        w = worst[route]
        print(f"{route:>5}  {w['n']:6d}  {w['score']:.2e}    {w['logpdf']:.2e}                {w['pdf']:.2e}  {w['cdf']:.2e}")


if __name__ == "__main__":
    main()
