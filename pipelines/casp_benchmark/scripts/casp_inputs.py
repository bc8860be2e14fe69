"""Targets, reference files and existing models of a casp_benchmark run (read when the workflow starts)."""

import dataclasses
from pathlib import Path

from foldkit.errors import InputError
from foldkit.eval.casp import parse_model_name, structure_stem
from foldkit.io.fasta import Query

TARGET_SUFFIX = ".fasta"


@dataclasses.dataclass(frozen=True)
class TargetSet:
    """Where a CASP-style set lives: ``targets/<T>.fasta``, ``natives/<unit>.pdb`` and ``domains.tsv``."""

    targets_dir: Path
    natives_dir: Path
    domains: Path | None     # None: no domains.tsv (domains without a native file are then not scored)

    @classmethod
    def from_config(cls, config: dict) -> "TargetSet":
        base = Path(config["casp_dir"]) if config.get("casp_dir") else None

        def pick(key: str, default: str) -> Path | None:
            if config.get(key):
                return Path(config[key])
            return base / default if base is not None else None

        targets_dir, natives_dir, domains = pick("targets_dir", "targets"), pick("natives_dir", "natives"), \
            pick("domains", "domains.tsv")
        if targets_dir is None or natives_dir is None:
            raise InputError("set casp_dir, or targets_dir and natives_dir")
        for folder in (targets_dir, natives_dir):
            if not folder.is_dir():
                raise InputError("folder not found", path=str(folder))
        if domains is not None and not domains.is_file():
            if config.get("domains"):
                raise InputError("domains file not found", path=str(domains))
            domains = None
        return cls(targets_dir, natives_dir, domains)

    def target_fasta(self, target: str) -> Path:
        return self.targets_dir / f"{target}{TARGET_SUFFIX}"


def target_names(target_set: TargetSet, targets: list[str] | str) -> list[str]:
    """The configured targets ("all": every ``<T>.fasta``), each checked to have its FASTA file."""
    if isinstance(targets, str):
        if targets != "all":
            targets = [t for t in targets.replace(",", " ").split() if t]
        else:
            targets = sorted(p.name[: -len(TARGET_SUFFIX)] for p in target_set.targets_dir.glob(f"*{TARGET_SUFFIX}"))
    names = [str(t) for t in targets]
    if not names:
        raise InputError("no targets", path=str(target_set.targets_dir))
    for name in names:
        if parse_model_name(f"{name}TS000_1") is None:
            raise InputError(f"target {name!r} is not a CASP target name like T1084 or T1065s1")
        if not target_set.target_fasta(name).is_file():
            raise InputError(f"no sequence file {name}{TARGET_SUFFIX}", path=str(target_set.targets_dir),
                             record=name)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"targets listed twice: {', '.join(duplicates)}")
    return names


def target_query(target_set: TargetSet, target: str) -> Query:
    """The record of ``<T>.fasta``: one sequence, or a complex (assembly targets such as H1106): one record
    with chains separated by ':' (ColabFold), or one record per chain (AlphaFold2's convention), returned
    as one record with ':' between the chains in file order."""
    from foldkit.io.fasta import parse_fasta
    from foldkit.io.textfile import display_name, read_text

    path = target_set.target_fasta(target)
    queries = parse_fasta(read_text(path), display_name(path), chain_separator=True, unique_ids=False)
    if len(queries) == 1:
        chains = queries[0].sequence.split(":")
    else:
        if any(":" in q.sequence for q in queries):
            raise InputError("a target file holds one record ('SEQA:SEQB' for a complex) or one record per chain, "
                             f"not several records with ':' ({len(queries)} records)", path=str(path))
        chains = [q.sequence for q in queries]
    if "" in chains:
        raise InputError("empty chain: ':' separates the chains of a complex", path=str(path),
                         record=queries[0].id, line=queries[0].line)
    return Query(queries[0].id, queries[0].description, ":".join(chains), queries[0].line)


def distinct_chains(query: Query) -> list[tuple[str, str]]:
    """(chain id, sequence) of each distinct chain of a complex target (A, B, ... of the first copies)."""
    from foldkit.io.complexes import make_complex

    made = make_complex(query.id, query.description, [(s, "") for s in query.sequence.split(":")])
    return [(chain.chain_id, chain.sequence) for chain in made.distinct_chains]


def chains_fasta_text(target: str, query: Query) -> str:
    """A complex target's distinct chains as records ``<T>_<chain id>`` (what its MSA job aligns)."""
    return "".join(f">{target}_{chain_id}\n{sequence}\n" for chain_id, sequence in distinct_chains(query))


def target_fasta_text(target: str, query: Query) -> str:
    """FASTA of a target with the target name as record id (foldkit's output folder is then <T>)."""
    lines = [query.sequence[i:i + 80] for i in range(0, len(query.sequence), 80)]
    return f">{target} {query.description}".rstrip() + "\n" + "\n".join(lines) + "\n"


def existing_models(folder: str | Path, targets: list[str]) -> dict[str, list[Path]]:
    """target -> CASP-named model files of that target found under ``folder`` (recursively), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("existing_models folder not found", path=str(folder))
    found: dict[str, list[Path]] = {t: [] for t in targets}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = parse_model_name(structure_stem(path))
        if name is not None and name.target in found:
            found[name.target].append(path)
    return found


def check_group(group: str) -> str:
    """A three-digit CASP group code (what foldkit's CASP model-name parser accepts)."""
    group = str(group)
    if parse_model_name(f"T0000TS{group}_1") is None:
        raise InputError(f"group must be three digits like 900, not {group!r}")
    return group
