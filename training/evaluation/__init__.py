"""The evaluation protocol of DESIGN.md, split the way OpenGait splits it (data, the anonymizers
under test, the attackers, the metrics, the report); `python -m training.evaluate` runs it all.

- data.py        walks of the evaluated subjects, gallery/probe sets, drawing outputs as attackers see them
- conditions.py  the anonymizers under test: references, trivial ones, shipped models, evaluation-only rows
- suite.py       the attackers: GEI+PCA/LDA, GEI CNN, set-based, each adaptive per strength, the tool owner
- metrics.py     identification tables, success rates, linkability, naturalness, the privacy check's calibration
- video.py       the four colour clips through the full engine, re-segmented
- report.py      reports/evaluation.md|json, figures, manifest blocks
"""
