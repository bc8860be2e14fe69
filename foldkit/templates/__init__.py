"""Templates exactly as AlphaFold2 v2.3's data pipeline builds them.

Public API (the MSA/predict side codes against these names)::

    settings = TemplateSettings(mmcif_dir, max_template_date, obsolete_pdbs)
    featurizer = TemplateFeaturizer(settings)          # keep it: it caches parsed mmCIF files

    # monomer: HHsearch on pdb70 with the A3M made from the uniref90 Stockholm
    a3m = hhsearch_query_a3m(uniref90_sto_text)        # -> hhsearch -i
    result = featurizer.from_hhr(query_sequence, hhr_text, path)

    # multimer: hmmsearch on pdb_seqres with the profile of the uniref90 Stockholm
    sto = hmmsearch_templates(hmmbuild_query_sto(uniref90_sto_text), pdb_seqres_path, cpus)
    result = featurizer.from_hmmsearch_sto(query_sequence, sto, path)

    # the user's own structures
    search = custom_template_hits(query_sequence, custom_dir, uniref90_sto_text=..., cpus=...)
    result = featurizer.from_custom(query_sequence, search)

    result.features   # template_* arrays (AlphaFold2 names, dtypes and empty conventions)
    result.log        # AlphaFold2's log lines, one per hit decision
    result.num_templates

Modules: :mod:`hits` (.hhr / hmmsearch Stockholm), :mod:`mmcif` (entries),
:mod:`filters`, :mod:`realign` (Kalign), :mod:`features`, :mod:`featurizer`,
:mod:`query_msa`, :mod:`hmmsearch` (pyhmmer), :mod:`custom`.
"""

from __future__ import annotations

from foldkit.templates.custom import CustomTemplateSearch, custom_template_hits
from foldkit.templates.features import TEMPLATE_FEATURE_NAMES, no_template_features
from foldkit.templates.featurizer import (HitDecision, TemplateFeaturizer, TemplateResult,
                                          TemplateSettings)
from foldkit.templates.hits import TemplateHit, parse_hhr, parse_hmmsearch_sto
from foldkit.templates.hmmsearch import hmmsearch_templates, load_target_sequences
from foldkit.templates.query_msa import hhsearch_query_a3m, hmmbuild_query_sto

__all__ = [
    "CustomTemplateSearch", "HitDecision", "TEMPLATE_FEATURE_NAMES", "TemplateFeaturizer", "TemplateHit", "TemplateResult",
    "TemplateSettings", "custom_template_hits", "hhsearch_query_a3m", "hmmbuild_query_sto",
    "hmmsearch_templates", "load_target_sequences", "no_template_features", "parse_hhr", "parse_hmmsearch_sto",
]
