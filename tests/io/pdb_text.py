"""Builders of small PDB-format texts for the I/O tests."""

from __future__ import annotations

BACKBONE = (("N", -0.525, 1.363, 0.0), ("CA", 0.0, 0.0, 0.0), ("C", 1.526, 0.0, 0.0), ("O", 2.15, -1.0, 0.3))


def atom_line(serial: int, name: str, resname: str, chain: str, resseq: int, xyz=(0.0, 0.0, 0.0), *,
              occupancy: float = 1.0, b_factor: float = 10.0, altloc: str = " ", icode: str = " ",
              element: str | None = None, record: str = "ATOM") -> str:
    element = element if element is not None else name[0]
    padded = name if len(name) == 4 else f" {name:<3s}"
    x, y, z = xyz
    return (f"{record:<6s}{serial:5d} {padded}{altloc}{resname:>3s} {chain}{resseq:4d}{icode}   "
            f"{x:8.3f}{y:8.3f}{z:8.3f}{occupancy:6.2f}{b_factor:6.2f}          {element:>2s}  ")


def residue_lines(start_serial: int, resname: str, chain: str, resseq: int, offset: float, *,
                  atoms=BACKBONE, **kwargs) -> list[str]:
    return [atom_line(start_serial + i, name, resname, chain, resseq, (x + offset, y, z), **kwargs)
            for i, (name, x, y, z) in enumerate(atoms)]


def simple_chain(resnames: list[str], chain: str = "A", first: int = 1) -> list[str]:
    lines = []
    for i, resname in enumerate(resnames):
        lines += residue_lines(len(lines) + 1, resname, chain, first + i, 3.8 * i)
    return lines
