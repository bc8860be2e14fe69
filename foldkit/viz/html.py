"""Standalone HTML pages: 3Dmol.js views, legends and plots, for people without Jupyter.

The structures are embedded as PDB text (``<script type="text/plain">``
blocks), the plots as inline base64 PNG. 3Dmol.js is inlined when a local
copy is found (argument, ``$FOLDKIT_3DMOL_JS``, or a ``3Dmol*.js`` shipped in
the py3Dmol package; the py3Dmol wheel currently ships none) and otherwise
loaded from the jsDelivr CDN, which then needs a network connection; the page
says which.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io.atomic import atomic_write_text
from foldkit.viz.scene import Scene, scene_commands

CDN_URL = "https://cdn.jsdelivr.net/npm/3dmol@2.5.5/build/3Dmol-min.js"
JS_ENV = "FOLDKIT_3DMOL_JS"

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin: 0.4em 0; }
.panels { display: flex; flex-wrap: wrap; gap: 1.2em; }
.panel { border: 1px solid #ddd; padding: 0.6em; }
.viewer { position: relative; }
.legend { margin-top: 0.5em; font-size: 0.85em; }
.legend .entry { display: inline-block; margin-right: 1em; }
.swatch { display: inline-block; width: 1.1em; height: 1.1em; vertical-align: middle; margin-right: 0.3em;
          border: 1px solid #888; }
.caption { font-size: 0.9em; margin: 0.4em 0; }
.plots img { max-width: 100%; }
figure { margin: 1em 0; }
.note { font-size: 0.8em; color: #666; }
"""


@dataclasses.dataclass(frozen=True)
class Plot:
    """One inline figure: PNG bytes and a caption."""

    caption: str
    png: bytes


def find_3dmol_js(explicit: str | os.PathLike | None = None) -> Path | None:
    """A local 3Dmol.js: ``explicit``, else ``$FOLDKIT_3DMOL_JS``, else one bundled with py3Dmol."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise InputError("3Dmol.js file not found", path=str(path))
        return path
    env = os.environ.get(JS_ENV)
    if env and Path(env).is_file():
        return Path(env)
    try:
        import py3Dmol
    except ImportError:
        return None
    bundled = sorted(Path(py3Dmol.__file__).parent.rglob("3Dmol*.js"))
    return bundled[0] if bundled else None


def _script_safe(text: str) -> str:
    """Text that cannot close the surrounding <script> element."""
    return text.replace("</", "<\\/")


def _js_args(args: tuple) -> str:
    return ", ".join(_script_safe(json.dumps(a)) for a in args)


def _structure_blocks(scenes: Sequence[Scene]) -> list[str]:
    blocks = []
    for k, scene in enumerate(scenes):
        for m, text in enumerate(scene.structures):
            if "</" in text:
                raise ValueError("structure text contains '</' and cannot be embedded")
            blocks.append(f'<script type="text/plain" id="structure-{k}-{m}">\n{text}</script>')
    return blocks


def _scene_script(k: int, scene: Scene, width: int, height: int) -> str:
    lines = ["  (function () {",
             (f'    var viewer = $3Dmol.createViewer(document.getElementById("viewer-{k}"), '
              '{backgroundColor: "white"});')]
    model = 0
    for method, args in scene_commands(scene, width, height, labels=False):
        if method == "addModel":
            lines.append(f'    viewer.addModel(structureText("structure-{k}-{model}"), "pdb");')
            model += 1
        else:
            lines.append(f"    viewer.{method}({_js_args(args)});")
    lines += ["    viewer.render();", "  })();"]
    return "\n".join(lines)


def _legend_html(scene: Scene) -> str:
    if scene.legend is None:
        return ""
    entries = "".join(f'<span class="entry"><span class="swatch" style="background:{color}"></span>'
                      f"{html.escape(label)}</span>" for label, color in scene.legend.entries)
    return f'<div class="legend"><b>{html.escape(scene.legend.title)}:</b> {entries}</div>'


def _panel_html(k: int, scene: Scene, width: int, height: int) -> str:
    parts = [f'<div class="panel" style="width:{width}px">']
    if scene.title:
        parts.append(f"<h2>{html.escape(scene.title)}</h2>")
    parts.append(f'<div class="viewer" id="viewer-{k}" style="width:{width}px;height:{height}px"></div>')
    if scene.caption:
        parts.append(f'<p class="caption">{html.escape(scene.caption)}</p>')
    parts.append(_legend_html(scene))
    parts.append("</div>")
    return "\n".join(parts)


def _plot_html(plot: Plot) -> str:
    data = base64.b64encode(plot.png).decode("ascii")
    caption = html.escape(plot.caption)
    return (f'<figure><img alt="{caption}" src="data:image/png;base64,{data}">'
            f"<figcaption>{caption}</figcaption></figure>")


def render_html(title: str, scenes: Sequence[Scene], plots: Sequence[Plot] = (), js_path: Path | None = None,
                width: int = 640, height: int = 480, notes: Sequence[str] = ()) -> str:
    """The page's HTML text (``js_path``: local 3Dmol.js to inline; None: CDN)."""
    if js_path is not None:
        library = f"<script>\n{_script_safe(Path(js_path).read_text(encoding='utf-8'))}\n</script>"
        js_note = f"3Dmol.js {Path(js_path).name} is embedded in this page; it works offline."
    else:
        library = f'<script src="{CDN_URL}"></script>'
        js_note = (f"3Dmol.js is loaded from {CDN_URL} (no local copy given): the 3D view needs a network "
                   f"connection. Use --js PATH or ${JS_ENV} to embed a local 3Dmol-min.js.")
    draw = "\n".join(_scene_script(k, s, width, height) for k, s in enumerate(scenes))
    script = f"""<script>
function structureText(id) {{ return document.getElementById(id).textContent; }}
function drawScenes() {{
  if (typeof $3Dmol === "undefined") {{
    document.getElementById("js-missing").style.display = "block";
    return;
  }}
{draw}
}}
window.addEventListener("load", drawScenes);
</script>"""
    body = [f"<h1>{html.escape(title)}</h1>",
            ('<p id="js-missing" class="note" style="display:none;color:#b00">3Dmol.js could not be loaded, '
             "so the 3D view is empty.</p>"),
            '<div class="panels">', *(_panel_html(k, s, width, height) for k, s in enumerate(scenes)), "</div>"]
    if plots:
        body += ['<div class="plots">', *(_plot_html(p) for p in plots), "</div>"]
    body += [f'<p class="note">{html.escape(n)}</p>' for n in (*notes, js_note)]
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>", f"<style>{STYLE}</style>", library, "</head>", "<body>",
        *body, *_structure_blocks(scenes), script, "</body>", "</html>", ""])


def write_html(path: str | os.PathLike, title: str, scenes: Sequence[Scene], plots: Sequence[Plot] = (),
               js_path: str | os.PathLike | None = None, width: int = 640, height: int = 480,
               notes: Sequence[str] = ()) -> Path:
    """Write the page atomically; ``js_path`` None looks for a local 3Dmol.js (:func:`find_3dmol_js`)."""
    local_js = find_3dmol_js(js_path)
    text = render_html(title, scenes, plots, js_path=local_js, width=width, height=height, notes=notes)
    atomic_write_text(path, text)
    return Path(path)
