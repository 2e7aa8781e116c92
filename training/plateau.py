"""Train until the validation score stops rising (DESIGN.md "Evaluation protocol": an adaptive
attacker is retrained "until its validation accuracy stops rising"; issue 12: patience 2, at most
20 epochs).

Framework-light: the loop only calls back. `run_epoch(epoch)` trains one epoch (epochs are numbered
from 1), `validate()` scores the model as it now is (higher is better), `save_best(epoch)` keeps the
best state so far and `restore_best(epoch)` brings it back at the end. `BestState` does the last two
for anything with `state_dict()` / `load_state_dict()` (torch modules, optimisers).

A run can resume: pass the scores of the epochs already run as `history` (and the score before
training as `initial_score`, if one was measured); the loop works out the best epoch and how long the
score has not risen from them and carries on (or stops at once).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Plateau:
    """How a run ended. `best_epoch` 0 means the state before training (only with an initial score)."""

    best_epoch: int
    best_score: float
    scores: tuple[float, ...]  # one per epoch run, epoch 1 first (resumed ones included)
    plateaued: bool  # the score had stopped rising (patience ran out), not only max_epochs reached


def train_until_plateau(
    run_epoch: Callable[[int], None],
    validate: Callable[[], float],
    patience: int = 2,
    max_epochs: int = 20,
    *,
    save_best: Callable[[int], None] | None = None,
    restore_best: Callable[[int], None] | None = None,
    after_epoch: Callable[[int, float, Plateau], None] | None = None,
    history: Sequence[float] = (),
    initial_score: float | None = None,
    log: Callable[[str], None] | None = None,
) -> Plateau:
    """Run epochs until `patience` epochs in a row fail to raise the best validation score (a tie
    is not a rise) or `max_epochs` have run; restore the best state and say which epoch it was.

    `after_epoch(epoch, score, so_far)` runs after each epoch's validation (and after `save_best`):
    the place to write a checkpoint holding `so_far.scores`, to pass back as `history` on resume.
    """
    if patience < 1 or max_epochs < 0:
        raise ValueError(f"patience must be >= 1 and max_epochs >= 0 (got {patience}, {max_epochs})")
    scores = list(history)
    if len(scores) > max_epochs:
        raise ValueError(f"history has {len(scores)} epochs, more than max_epochs={max_epochs}")
    best_epoch, best_score = _best(scores, initial_score)
    while len(scores) < max_epochs and len(scores) - best_epoch < patience:
        epoch = len(scores) + 1
        run_epoch(epoch)
        score = float(validate())
        scores.append(score)
        rose = score > best_score
        if rose:
            best_epoch, best_score = epoch, score
            if save_best is not None:
                save_best(epoch)
        if log is not None:
            mark = "best so far" if rose else f"best {best_score:.4f} at epoch {best_epoch}"
            log(f"epoch {epoch}: validation {score:.4f} ({mark})")
        if after_epoch is not None:
            after_epoch(epoch, score, _result(best_epoch, best_score, scores, patience))
    result = _result(best_epoch, best_score, scores, patience)
    if restore_best is not None:
        restore_best(best_epoch)
    return result


def _best(scores: Sequence[float], initial_score: float | None) -> tuple[int, float]:
    best_epoch, best_score = 0, float("-inf") if initial_score is None else float(initial_score)
    for epoch, score in enumerate(scores, start=1):
        if score > best_score:
            best_epoch, best_score = epoch, float(score)
    return best_epoch, best_score


def _result(best_epoch: int, best_score: float, scores: Sequence[float], patience: int) -> Plateau:
    return Plateau(best_epoch, best_score, tuple(float(s) for s in scores), len(scores) - best_epoch >= patience)


class BestState:
    """Keeps deep copies of the best states of some objects with `state_dict()`/`load_state_dict()`.

    `save(epoch)` and `restore(epoch)` fit `train_until_plateau`'s `save_best` / `restore_best`.
    Call `save(0)` before training when an initial score is given, so that epoch 0 can be restored.
    """

    def __init__(self, **objects: Any) -> None:
        self.objects = objects
        self.epoch: int | None = None
        self.states: dict[str, Any] = {}

    def save(self, epoch: int) -> None:
        self.epoch = epoch
        self.states = {name: copy.deepcopy(obj.state_dict()) for name, obj in self.objects.items()}

    def restore(self, epoch: int) -> None:
        if self.epoch is None:
            raise RuntimeError("no best state was saved")
        if epoch != self.epoch:
            raise RuntimeError(f"asked to restore epoch {epoch}, but the state kept is epoch {self.epoch}")
        for name, obj in self.objects.items():
            obj.load_state_dict(self.states[name])
