"""``foldkit params list | verify DIR | fetch DIR``: model parameter files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PARAMS_DIR_ENV = "FOLDKIT_PARAMS_DIR"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "params", help="list, verify or download model parameters",
        description="Model parameters: official AlphaFold2 files (params_model_1..5[_ptm].npz, "
                    "params_model_1..5_multimer_v3.npz) or custom params_<name>.npz with a params_<name>.json "
                    "config next to them.")
    actions = parser.add_subparsers(dest="params_action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="known presets and where parameter files are looked up")
    listing.add_argument("--params-dir", type=Path, default=os.environ.get(PARAMS_DIR_ENV) or None,
                         help=f"folder to look in (default ${PARAMS_DIR_ENV})")
    listing.set_defaults(func=run_list)

    verify = actions.add_parser("verify", help="check the keys and shapes of every parameter file in DIR")
    verify.add_argument("dir", type=Path, help="parameters folder")
    verify.set_defaults(func=run_verify)

    fetch = actions.add_parser("fetch", help="download the official AlphaFold2 parameters (monomer and multimer v3), "
                                             "verify and unpack them")
    fetch.add_argument("dir", type=Path, help="destination folder (created)")
    fetch.add_argument("--url", default=None, help="archive address (default: the official one); file:// works")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    fetch.set_defaults(func=run_fetch)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_list(args) -> int:
    from foldkit.params_store import OFFICIAL_PARAMS_URL, list_presets
    from foldkit.predict.models import BUNDLED_MODEL, bundled_params_dir

    params_dir = args.params_dir
    print("Presets (AlphaFold2 monomer and AlphaFold-Multimer v3 models; config packaged with foldkit):")
    print(f"  {'name':<22}{'kind':<10}{'templates':<11}{'pTM/PAE':<9}file")
    for info in list_presets(params_dir):
        where = str(info.path) if info.path else ("not found" if params_dir else "-")
        print(f"  {info.name:<22}{'multimer' if info.multimer else 'monomer':<10}"
              f"{'yes' if info.uses_templates else 'no':<11}{'yes' if info.has_ptm else 'no':<9}{where}")
    if params_dir is not None:
        from foldkit.params_store import OFFICIAL_MODEL_NAMES
        from foldkit.predict.models import find_params_files

        others = {n: p for n, p in find_params_files(Path(params_dir)).items() if n not in OFFICIAL_MODEL_NAMES} \
            if Path(params_dir).is_dir() else {}
        for name, path in others.items():
            config = path.with_suffix(".json")
            print(f"  {name:<34}{path} (config: {config.name if config.is_file() else 'MISSING'})")
    bundled = bundled_params_dir() / f"{BUNDLED_MODEL}.npz"
    status = str(bundled) if bundled.is_file() else "not bundled yet (pass --params-dir)"
    print(f"\nBundled default: {BUNDLED_MODEL}: {status}")
    print("\nLookup: `foldkit predict --params-dir DIR` (default $FOLDKIT_PARAMS_DIR) reads params_<model>.npz "
          "in DIR or DIR/params;\n  a file with another name needs a params_<model>.json config next to it.")
    print(f"Download: `foldkit params fetch DIR` ({OFFICIAL_PARAMS_URL})")
    return 0


def run_verify(args) -> int:
    from foldkit.params_store import verify_params_dir

    results = verify_params_dir(args.dir)
    for result in results:
        print(("ok    " if result.ok else "FAIL  ") + result.message)
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} of {len(results)} parameter files ok", file=sys.stderr)
    return 2 if failed else 0


def run_fetch(args) -> int:
    from foldkit.params_store import OFFICIAL_PARAMS_SIZE, OFFICIAL_PARAMS_URL, fetch_params

    url = args.url or OFFICIAL_PARAMS_URL
    if args.url is None:
        _log(f"the official archive is {OFFICIAL_PARAMS_SIZE} (CC BY 4.0 licence, see the LICENSE file it holds)")
    try:
        placed = fetch_params(args.dir, url, progress=not args.no_progress, log=_log)
    except KeyboardInterrupt:
        _log(f"foldkit params: interrupted; nothing was placed in {args.dir}")
        return 130
    for path in placed:
        print(path)
    return 0
