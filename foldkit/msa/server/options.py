"""The ``--msa-server [URL]`` command-line option, shared by ``foldkit msa`` and ``foldkit predict``.

``--msa-server`` alone means ColabFold's public server; ``--msa-server URL``
a self-hosted one. Because the URL is optional, ``foldkit msa --msa-server
query.fasta`` hands the FASTA path to the option; :func:`resolve_server_url`
gives it back to the positional argument.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from foldkit.errors import InputError
from foldkit.msa.server.protocol import DEFAULT_SERVER_URL, PAIRING_STRATEGIES


def add_server_arguments(parser: argparse.ArgumentParser, pairing: bool = False, templates: bool = True) -> None:
    """``--msa-server [URL]``, ``--msa-server-uniref-only`` (+ ``--templates``, ``--pair-strategy``)."""
    group = parser.add_argument_group("MSA server (sends the sequences over the network)")
    group.add_argument("--msa-server", nargs="?", const=DEFAULT_SERVER_URL, default=None, metavar="URL",
                       help="get MSAs from an MMseqs2 server with ColabFold's API instead of searching locally; "
                            f"without URL ColabFold's public server {DEFAULT_SERVER_URL} (a third party: the "
                            "sequences leave this machine); give the URL of a self-hosted MMseqs2-App server "
                            "to keep them in house")
    group.add_argument("--msa-server-uniref-only", action="store_true",
                       help="UniRef30 only (ColabFold's mmseqs2_uniref); default UniRef30 + environmental "
                            "databases (mmseqs2_uniref_env)")
    if templates:
        group.add_argument("--templates", action="store_true",
                           help="with --msa-server: also keep the server's pdb70 template hits and fetch their "
                                "mmCIF files (template names are sent to the server)")
    if pairing:
        group.add_argument("--pair-strategy", choices=sorted(PAIRING_STRATEGIES), default="greedy",
                           help="how the server pairs the chains of a complex (default greedy)")


def looks_like_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def resolve_server_url(args: argparse.Namespace, positional: str = "query") -> str | None:
    """The server URL (or None without --msa-server); repairs ``--msa-server FILE`` (see module doc)."""
    value = getattr(args, "msa_server", None)
    if value is None:
        return None
    if looks_like_url(value):
        return value.rstrip("/")
    if getattr(args, positional, None) is None:
        setattr(args, positional, Path(value))
        args.msa_server = DEFAULT_SERVER_URL
        return DEFAULT_SERVER_URL
    raise InputError(f"--msa-server {value!r}: expected an http:// or https:// URL")
