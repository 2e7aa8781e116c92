"""The gait recognisers that play the attacker, and the identification protocol.

Two kinds (DESIGN.md "Evaluation protocol"):
- `GeiLdaAttacker`: the classic gait energy image (mean of the 64x44 frames),
  PCA then LDA, nearest neighbour. numpy/scipy only.
- `GeiCnn`: a small CNN on the gait energy image, trained in torch and shipped as
  ONNX (role "attacker": `silhouettes [B, T, 64, 44]` in 0..1 -> `embedding [B, D]`,
  L2-normalised), run through `gaitanon_core.inference.attacker.AttackerEmbedder`.
Both look at a walk only through its GEI (the CNN's graph averages the frames first), so
both expose `embed_geis(geis) -> (n, D)`: the evaluation keeps one GEI per anonymized walk
and lets every attacker, later ones included, judge it. `identify` ranks gallery subjects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.linalg
import scipy.spatial
import torch
from torch import nn

from gaitanon_core.shape.casiab import crop_44, normalise_like_casiab


def as_attacker_sees(walk: np.ndarray) -> np.ndarray:
    """An anonymized (T, 64, 64) walk pre-treated as the dataset was (rows cropped, height 64, centred
    on the silhouette's middle column), as any recogniser's pipeline would: a network that only
    shifted or scaled the body inside the frame must not count as anonymizing it. A dataset frame
    comes back (almost always exactly) as it was."""
    walk = np.asarray(walk, dtype=bool)
    return np.stack([normalise_like_casiab(frame) if frame.any() else frame for frame in walk]) if len(walk) else walk


def gei(walk: np.ndarray) -> np.ndarray:
    """Gait energy image: the mean of the 64x44 crops of a (T, 64, 64) walk, float32 (64, 44)."""
    return crop_44(walk).mean(axis=0, dtype=np.float32)


class GeiLdaAttacker:
    """GEI -> PCA -> LDA -> nearest neighbour (the paper's first kind of attacker).

    LDA classes are (subject, view) pairs: a class per subject alone would spend the
    discriminant directions on ignoring the view and lose same-view precision.
    """

    def __init__(self, name: str, mean: np.ndarray, projection: np.ndarray) -> None:
        self.name = name
        self.mean = mean
        self.projection = projection

    @classmethod
    def fit(cls, name: str, geis: np.ndarray, labels: np.ndarray, pca_dims: int = 300) -> GeiLdaAttacker:
        flat = geis.reshape(len(geis), -1).astype(np.float64)
        mean = flat.mean(axis=0)
        centred = flat - mean
        values, vectors = np.linalg.eigh(centred.T @ centred)  # cheaper than an SVD of many walks
        pca = vectors[:, np.argsort(values)[::-1][: min(pca_dims, len(flat) - 1)]]
        reduced = centred @ pca
        lda = _lda_directions(reduced, labels)
        return cls(name, mean.astype(np.float32), (pca @ lda).astype(np.float32))

    def embed_geis(self, geis: np.ndarray) -> np.ndarray:
        return (geis.reshape(len(geis), -1) - self.mean) @ self.projection

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean, projection=self.projection, name=self.name)

    @classmethod
    def load(cls, path: Path) -> GeiLdaAttacker:
        with np.load(path) as stored:
            return cls(str(stored["name"]), stored["mean"], stored["projection"])


def _lda_directions(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fisher discriminant directions (columns), with a small ridge on the within-class scatter."""
    classes = np.unique(labels)
    overall = features.mean(axis=0)
    within = np.zeros((features.shape[1],) * 2)
    between = np.zeros_like(within)
    for label in classes:
        members = features[labels == label]
        centre = members.mean(axis=0)
        within += (members - centre).T @ (members - centre)
        between += len(members) * np.outer(centre - overall, centre - overall)
    within += 1e-3 * np.trace(within) / len(within) * np.eye(len(within))
    values, vectors = scipy.linalg.eigh(between, within)
    keep = min(len(classes) - 1, len(values))
    return vectors[:, np.argsort(values)[::-1][:keep]]


EMBEDDING_DIM = 128


class GeiCnn(nn.Module):
    """Silhouettes [B, T, 64, 44] -> L2-normalised embedding [B, D]; averages over time first
    (the GEI), so it costs the same for any clip length."""

    def __init__(self, embedding_dim: int = EMBEDDING_DIM) -> None:
        super().__init__()

        def block(cin: int, cout: int, kernel: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, kernel, padding=kernel // 2),
                nn.BatchNorm2d(cout),
                nn.LeakyReLU(0.1),
                nn.MaxPool2d(2),
            )

        self.features = nn.Sequential(block(1, 16, 5), block(16, 32, 3), block(32, 64, 3), block(64, 96, 3))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(96 * 4 * 2, embedding_dim))

    def forward(self, silhouettes: torch.Tensor) -> torch.Tensor:
        energy = silhouettes.mean(dim=1, keepdim=True)
        return nn.functional.normalize(self.head(self.features(energy)), dim=1)


@dataclass(frozen=True)
class Identification:
    """Per probe: was the true subject the nearest gallery subject, among the nearest three, five."""

    rank1: np.ndarray  # bool (n_probes,)
    rank3: np.ndarray
    rank5: np.ndarray


def identify(
    probe_embeddings: np.ndarray,
    probe_subjects: np.ndarray,
    gallery_embeddings: np.ndarray,
    gallery_subjects: np.ndarray,
) -> Identification:
    """Nearest-neighbour identification: a gallery subject's distance is that of its nearest
    gallery walk; subjects are ranked by it."""
    distances = scipy.spatial.distance.cdist(probe_embeddings, gallery_embeddings)
    names = np.unique(gallery_subjects)
    per_subject = np.stack([distances[:, gallery_subjects == s].min(axis=1) for s in names], axis=1)
    order = names[np.argsort(per_subject, axis=1)]
    hits = order == probe_subjects[:, None]
    return Identification(rank1=hits[:, 0], rank3=hits[:, :3].any(axis=1), rank5=hits[:, :5].any(axis=1))
