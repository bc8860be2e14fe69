"""MSAs from an MMseqs2 server speaking ColabFold's API (api.colabfold.com or a self-hosted MMseqs2-App).

Opt-in only: nothing is sent unless a caller passes a server URL (the CLI's
``--msa-server``). Modules: :mod:`.protocol` (endpoints, fields, modes,
statuses, file names), :mod:`.http` (urllib with retries), :mod:`.jobs`
(submit / poll / download), :mod:`.archive` (result archives), :mod:`.cache`
(per-record cache layout), :mod:`.results` (Msa objects), :mod:`.templates`
(template endpoint), :mod:`.fetch` (the entry point), :mod:`.options` (CLI flag).
"""

from __future__ import annotations

from pathlib import Path

from foldkit.msa.server.archive import ServerTemplateHit
from foldkit.msa.server.fetch import fetch_server_msas
from foldkit.msa.server.http import USER_AGENT, MsaServerError
from foldkit.msa.server.protocol import DEFAULT_SERVER_URL, ServerSettings
from foldkit.msa.server.results import ChainServerMsa, ServerMsaResult


def record_cache_dir(record_dir: str | Path) -> Path:
    """Where a prediction record keeps its server downloads: ``<record>/msas/server``."""
    return Path(record_dir) / "msas" / "server"


__all__ = ["DEFAULT_SERVER_URL", "USER_AGENT", "ChainServerMsa", "MsaServerError", "ServerMsaResult",
           "ServerSettings", "ServerTemplateHit", "fetch_server_msas", "record_cache_dir"]
