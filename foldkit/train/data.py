"""Training data: chains from the npz shards, crops, features, batches (deterministic for a seed).

Layout of the data folder (see ``shared/train/README.md``): ``shard_index.tsv``
(chain -> shard, split), ``structures/shard_XXX.npz`` (concatenated residues,
loaded with ``allow_pickle=False``), ``msas/<chain>.a3m.gz`` and
``splits/nr40.txt``.

Example ``k`` of a run depends only on ``(seed, k)`` (its own numpy
Generator), so a resumed run sees exactly the data of an uninterrupted one:
the data "RNG state" is the seed plus the next example index. An example
holds the processed model features (``[B, ...]`` with B = num_recycle + 1
MSA resamplings, AlphaFold2 names, padded to the crop size) and the raw
targets ``atom37_positions``, ``atom37_mask``, ``full_atom`` and
``use_clamped_fape``; :func:`foldkit.train.ground_truth.ground_truth` turns
the targets into frames, torsions, atom14 and pseudo-beta inside the jitted
step.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
from pathlib import Path
from typing import Sequence

import numpy as np

from foldkit.errors import InputError
from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from foldkit.features.raw import make_raw_features
from foldkit.io.msa_files import Msa, read_a3m
from foldkit.protein import Protein
from foldkit.train.config import DataSettings
from foldkit.train.ground_truth import ground_truth  # noqa: F401  (re-exported: targets of a chain)

SEQUENCE_LETTERS = "ARNDCQEGHILKMFPSTWYVX"
# processed features the network reads, plus the masked-MSA targets
MODEL_FEATURES = ("aatype", "residue_index", "seq_mask", "target_feat", "msa_feat", "msa_mask",
                  "extra_msa", "extra_msa_mask", "extra_has_deletion", "extra_deletion_value",
                  "atom14_atom_exists", "atom37_atom_exists", "residx_atom14_to_atom37",
                  "residx_atom37_to_atom14", "bert_mask", "true_msa")
SHARD_KEYS = ("chain_id", "split", "full_atom", "seq_len", "offsets", "cluster_id", "aatype",
              "residue_index", "atom37_positions", "atom37_mask")


@dataclasses.dataclass(frozen=True)
class Chain:
    """One experimental chain. Atoms are stored compactly: only the atom37 columns
    ``atom_columns`` that the chain can have (N, CA, C, O for backbone-only chains)."""

    chain_id: str
    aatype: np.ndarray            # [L] int8, AlphaFold order, 20 = X
    residue_index: np.ndarray     # [L] int32
    atom_columns: np.ndarray      # [K] atom37 indices
    positions: np.ndarray         # [L, K, 3] float32
    mask: np.ndarray              # [L, K] uint8
    full_atom: bool
    cluster_id: int

    def __len__(self) -> int:
        return len(self.aatype)

    @property
    def sequence(self) -> str:
        return "".join(SEQUENCE_LETTERS[a] for a in self.aatype)

    def atom37(self, rows: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """(positions [n, 37, 3] float32, mask [n, 37] float32) of the given residues."""
        positions, mask = self.positions[rows], self.mask[rows]
        pos37 = np.zeros((len(positions), 37, 3), np.float32)
        mask37 = np.zeros((len(positions), 37), np.float32)
        pos37[:, self.atom_columns] = positions
        mask37[:, self.atom_columns] = mask
        return pos37, mask37

    def to_protein(self) -> Protein:
        """The chain as a :class:`~foldkit.protein.Protein` (for scoring)."""
        pos37, mask37 = self.atom37()
        return Protein(aatype=self.aatype.astype(np.int32), atom_positions=pos37, atom_mask=mask37,
                       residue_index=self.residue_index.astype(np.int32), chain_id="A",
                       b_factors=np.zeros_like(mask37))


# --------------------------------------------------------------------------- loading


def _read_tsv(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t"))
    except OSError as exc:
        raise InputError(f"cannot read {path.name} ({exc.strerror}); is this a training data folder?",
                         path=str(path)) from None


def _load_shard(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as shard:
            missing = [k for k in SHARD_KEYS if k not in shard.files]
            if missing:
                raise InputError(f"shard lacks arrays {missing}", path=str(path))
            return {k: shard[k] for k in SHARD_KEYS}
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read shard ({exc})", path=str(path)) from None


def _chain_from_shard(shard: dict[str, np.ndarray], i: int) -> Chain:
    start, length = int(shard["offsets"][i]), int(shard["seq_len"][i])
    rows = slice(start, start + length)
    full_atom = bool(shard["full_atom"][i])
    columns = np.arange(37) if full_atom else np.asarray((0, 1, 2, 4))
    return Chain(chain_id=str(shard["chain_id"][i]), aatype=shard["aatype"][rows].astype(np.int8),
                 residue_index=shard["residue_index"][rows].astype(np.int32), atom_columns=columns,
                 positions=np.ascontiguousarray(shard["atom37_positions"][rows][:, columns]),
                 mask=np.ascontiguousarray(shard["atom37_mask"][rows][:, columns]),
                 full_atom=full_atom, cluster_id=int(shard["cluster_id"][i]))


def load_chains(data_dir: str | Path, split: str, *, limit: int | None = None, max_length: int | None = None,
                subset: str | None = None, full_atom_only: bool = False) -> list[Chain]:
    """The chains of ``split`` in shard order (the first ``limit`` that pass the filters)."""
    data_dir = Path(data_dir)
    index = _read_tsv(data_dir / "shard_index.tsv")
    keep_ids = None
    if subset is not None:
        subset_path = data_dir / "splits" / f"{subset}.txt"
        try:
            keep_ids = set(subset_path.read_text().split())
        except OSError as exc:
            raise InputError(f"cannot read subset list ({exc.strerror})", path=str(subset_path)) from None
    shards = list(dict.fromkeys(row["shard"] for row in index if row["split"] == split))
    if not shards:
        raise InputError(f"no chains of split '{split}' in shard_index.tsv", path=str(data_dir))
    chains: list[Chain] = []
    for name in shards:
        path = data_dir / "structures" / name
        if not path.is_file():
            continue   # a shard of the full build that is not shipped
        shard = _load_shard(path)
        for i in range(len(shard["chain_id"])):
            if str(shard["split"][i]) != split:
                continue
            if keep_ids is not None and str(shard["chain_id"][i]) not in keep_ids:
                continue
            if max_length is not None and int(shard["seq_len"][i]) > max_length:
                continue
            if full_atom_only and not bool(shard["full_atom"][i]):
                continue
            chains.append(_chain_from_shard(shard, i))
            if limit is not None and len(chains) >= limit:
                return chains
    if not chains:
        raise InputError(f"no chain of split '{split}' found under {data_dir / 'structures'}", path=str(data_dir))
    return chains


class MsaStore:
    """MSAs of the chains that have one (``msas/<chain>.a3m.gz``), parsed lazily and cached."""

    def __init__(self, data_dir: str | Path, enabled: bool = True, cache_size: int = 512):
        self.folder = Path(data_dir) / "msas"
        self.enabled = enabled and self.folder.is_dir()
        self._read = functools.lru_cache(maxsize=cache_size)(self._read_uncached)

    def _read_uncached(self, chain_id: str, sequence: str) -> Msa | None:
        path = self.folder / f"{chain_id}.a3m.gz"
        if not path.is_file():
            return None
        return read_a3m(path, query_sequence=sequence)

    def msa(self, chain: Chain) -> Msa:
        """The chain's MSA, or the single sequence when it has none (or MSAs are off)."""
        found = self._read(chain.chain_id, chain.sequence) if self.enabled else None
        return found if found is not None else Msa.single_sequence(chain.sequence, chain.chain_id)


# --------------------------------------------------------------------------- crops


def contiguous_crop(length: int, crop_size: int, rng: np.random.Generator) -> np.ndarray:
    """Residue indices of a random window of ``crop_size`` (all residues when shorter)."""
    if length <= crop_size:
        return np.arange(length)
    start = int(rng.integers(0, length - crop_size + 1))
    return np.arange(start, start + crop_size)


def spatial_crop(ca: np.ndarray, ca_mask: np.ndarray, crop_size: int, rng: np.random.Generator) -> np.ndarray:
    """The ``crop_size`` residues whose CA is closest to a random observed anchor CA (sorted).

    ca [L, 3], ca_mask [L]. Residues without CA come last; ties break by a tiny
    index term so the result is deterministic.
    """
    length = len(ca)
    if length <= crop_size:
        return np.arange(length)
    observed = np.flatnonzero(ca_mask > 0)
    anchor = int(observed[rng.integers(0, len(observed))]) if len(observed) else int(rng.integers(0, length))
    distance = np.linalg.norm(ca - ca[anchor], axis=-1) + 1e-3 * np.arange(length) / length
    distance = np.where(ca_mask > 0, distance, np.inf)
    return np.sort(np.argsort(distance, kind="stable")[:crop_size])


def crop_raw_features(raw: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Raw sequence + MSA features restricted to the residues ``rows`` (MSA columns too)."""
    out = dict(raw)
    for key in ("aatype", "residue_index", "between_segment_residues"):
        out[key] = raw[key][rows]
    for key in ("msa", "deletion_matrix_int"):
        out[key] = raw[key][:, rows]
    out["seq_length"] = np.full(len(rows), len(rows), np.int32)
    return out


# --------------------------------------------------------------------------- examples


def feature_config(settings: DataSettings, crop_size: int, num_recycle: int) -> FeatureConfig:
    """Feature processing for training crops (random MSA sampling and BERT masking)."""
    return FeatureConfig(max_msa_clusters=settings.max_msa_clusters, max_extra_msa=settings.max_extra_msa,
                         max_templates=0, num_recycle=num_recycle, resample_msa_in_recycling=True,
                         use_templates=False, masked_msa_replace_fraction=settings.masked_msa_fraction,
                         shuffle=True, crop_size=crop_size)


def chain_raw_features(chain: Chain, msa: Msa) -> dict[str, np.ndarray]:
    """Raw sequence + MSA features of a whole chain (AlphaFold2 names)."""
    return make_raw_features(chain.sequence, [msa], description=chain.chain_id, residue_index=chain.residue_index)


def make_example(chain: Chain, raw: dict[str, np.ndarray], rows: np.ndarray, features: FeatureConfig, seed: int,
                 use_clamped_fape: bool = True) -> dict[str, np.ndarray]:
    """Features and targets of the residues ``rows`` of a chain, padded to ``features.crop_size``.

    raw: :func:`chain_raw_features` of the chain.
    """
    processed = process_features(crop_raw_features(raw, rows), features, seed=seed)
    example = {k: processed[k] for k in MODEL_FEATURES}
    pad = features.crop_size - len(rows)
    positions, mask = chain.atom37(rows)
    example["atom37_positions"] = np.pad(positions, ((0, pad), (0, 0), (0, 0)))   # [crop, 37, 3]
    example["atom37_mask"] = np.pad(mask, ((0, pad), (0, 0)))                       # [crop, 37]
    example["full_atom"] = np.float32(chain.full_atom)
    example["use_clamped_fape"] = np.float32(use_clamped_fape)
    return example


class TrainData:
    """Deterministic stream of training examples: example k is a pure function of (seed, k)."""

    def __init__(self, chains: Sequence[Chain], msas: MsaStore, settings: DataSettings, crop_size: int,
                 num_recycle: int, seed: int, fape_clamp_fraction: float = 0.9, unclamped_examples: int = 0):
        if not chains:
            raise ValueError("no training chains")
        self.chains = list(chains)
        self.msas = msas
        self.settings = settings
        self.crop_size = crop_size
        self.seed = seed
        self.fape_clamp_fraction = fape_clamp_fraction
        self.unclamped_examples = unclamped_examples    # examples 0..n-1: unclamped FAPE
        self.features = feature_config(settings, crop_size, num_recycle)
        clusters: dict[int, list[int]] = {}
        for i, chain in enumerate(self.chains):
            clusters.setdefault(chain.cluster_id, []).append(i)
        self.clusters = [np.asarray(members) for _, members in sorted(clusters.items())]
        self._raw = functools.lru_cache(maxsize=256)(self._raw_uncached)

    def _raw_uncached(self, chain_index: int) -> dict[str, np.ndarray]:
        chain = self.chains[chain_index]
        return chain_raw_features(chain, self.msas.msa(chain))

    def chain_index(self, rng: np.random.Generator) -> int:
        if self.settings.sample_by_cluster:
            members = self.clusters[int(rng.integers(0, len(self.clusters)))]
            return int(members[rng.integers(0, len(members))])
        return int(rng.integers(0, len(self.chains)))

    def example(self, index: int) -> dict[str, np.ndarray]:
        """Example number ``index`` of the stream (same arrays every time it is asked for)."""
        rng = np.random.default_rng([self.seed, index])
        chain_index = self.chain_index(rng)
        chain = self.chains[chain_index]
        if rng.random() < self.settings.spatial_crop_fraction:
            positions, mask = chain.atom37()
            rows = spatial_crop(positions[:, 1], mask[:, 1], self.crop_size, rng)
        else:
            rows = contiguous_crop(len(chain), self.crop_size, rng)
        clamped = bool(rng.random() < self.fape_clamp_fraction) and index >= self.unclamped_examples
        return make_example(chain, self._raw(chain_index), rows, self.features,
                            seed=int(rng.integers(0, 2**31 - 1)), use_clamped_fape=clamped)

    def batch(self, first_index: int, batch_size: int) -> dict[str, np.ndarray]:
        """Examples first_index .. first_index + batch_size - 1 stacked on a new leading axis."""
        examples = [self.example(first_index + i) for i in range(batch_size)]
        return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


def recycle_count(seed: int, step: int, num_recycle: int) -> int:
    """Recycling iterations of optimizer step ``step`` (uniform in 0..num_recycle, from (seed, step))."""
    return int(np.random.default_rng([seed, step, 7]).integers(0, num_recycle + 1))

