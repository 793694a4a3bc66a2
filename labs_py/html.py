"""Small HTML builders shared by every lab: escaping, metrics, controls, the lab root.

Why: one place decides the DOM contract the browser shim and the tests rely on
(`data-lab`, `data-state`, `data-control`, `data-metric` + `data-value`).
"""

from __future__ import annotations

import json
from html import escape

from labs_py.controls import Choice, Control, Slider, Toggle


def esc(text: object) -> str:
    """HTML-escape anything (quotes included) for text and attribute positions."""
    return escape(str(text), quote=True)


def metric(name: str, value: float, text: str, label: str, hint: str = "") -> str:
    """One metric tile: the formatted number in `data-metric`, the raw one in `data-value`."""
    hint_html = f'<span class="lab-metric__hint">{esc(hint)}</span>' if hint else ""
    return (
        f'<div class="lab-metric"><span class="lab-metric__label">{esc(label)}</span>'
        f'<span class="lab-metric__value" data-metric="{esc(name)}" data-value="{float(value)!r}">{esc(text)}</span>'
        f"{hint_html}</div>"
    )


def metrics_grid(tiles: list[str]) -> str:
    """A responsive grid of metric tiles."""
    return f'<div class="lab-metrics">{"".join(tiles)}</div>'


def figure(svg: str, caption: str = "") -> str:
    """A chart with an optional caption, in a wrapper that scrolls sideways on very narrow screens."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure class="lab-figure"><div class="lab-figure__scroll">{svg}</div>{cap}</figure>'


def notices_html(notices: list[str]) -> str:
    """Visible notices about repaired input (escaped: they may quote reader-supplied text)."""
    if not notices:
        return ""
    items = "".join(f"<li>{esc(n)}</li>" for n in notices[:8])
    more = f"<li>… and {len(notices) - 8} more.</li>" if len(notices) > 8 else ""
    return f'<div class="lab-notice" role="note"><strong>Some settings were adjusted:</strong><ul>{items}{more}</ul></div>'


def _control_html(lab: str, c: Control, value: object) -> str:
    cid = f"{lab}-{c.name}"
    help_html = f'<span class="lab-control__help" id="{cid}-help">{esc(c.help)}</span>' if c.help else ""
    described = f' aria-describedby="{cid}-help"' if c.help else ""
    if isinstance(c, Slider):
        shown = f"{value:g}{c.unit}"
        return (
            f'<div class="lab-control lab-control--slider"><label for="{cid}">{esc(c.label)}</label>'
            f'<input type="range" id="{cid}" name="{esc(c.name)}" data-control="{esc(c.name)}" '
            f'min="{c.lo:g}" max="{c.hi:g}" step="{c.step:g}" value="{value:g}"{described}>'
            f'<output for="{cid}" data-output="{esc(c.name)}">{esc(shown)}</output>{help_html}</div>'
        )
    if isinstance(c, Choice):
        opts = "".join(
            f'<option value="{esc(v)}"{" selected" if v == value else ""}>{esc(label)}</option>' for v, label in c.options
        )
        return (
            f'<div class="lab-control lab-control--choice"><label for="{cid}">{esc(c.label)}</label>'
            f'<select id="{cid}" name="{esc(c.name)}" data-control="{esc(c.name)}"{described}>{opts}</select>{help_html}</div>'
        )
    if isinstance(c, Toggle):
        checked = " checked" if value else ""
        return (
            f'<div class="lab-control lab-control--toggle"><input type="checkbox" id="{cid}" name="{esc(c.name)}" '
            f'data-control="{esc(c.name)}"{checked}{described}><label for="{cid}">{esc(c.label)}</label>{help_html}</div>'
        )
    raise TypeError(f"unknown control {c!r}")


def controls_html(lab: str, controls: tuple[Control, ...], params: dict) -> str:
    """The form a reader operates; values reflect `params`."""
    inner = "".join(_control_html(lab, c, params[c.name]) for c in controls)
    return f'<form class="lab-controls" data-lab-controls>{inner}</form>'


def _action_button(name: str, label: str, key: str | None = None, confirm: str | None = None) -> str:
    shortcut = f' data-key="{esc(key)}" aria-keyshortcuts="{esc(key)}"' if key else ""
    ask = f' data-confirm="{esc(confirm)}"' if confirm else ""
    return (f'<button type="button" class="md-button lab-action" data-action="{esc(name)}"{shortcut}{ask} disabled>'
            f"{esc(label)}</button>")


def actions_html(actions: tuple[tuple[str, ...], ...]) -> str:
    """Buttons that send a named action to the lab (e.g. step, reset); `play` toggles repeated steps.

    Each action is (name, label) with two optional items: a keyboard shortcut (`data-key`) and a
    question the reader must confirm first (`data-confirm`); None skips either.
    """
    if not actions:
        return ""
    buttons = "".join(_action_button(*action) for action in actions)
    return f'<div class="lab-actions" role="group" aria-label="Lab actions">{buttons}</div>'


def lab_root(name: str, title: str, controls: tuple[Control, ...], actions: tuple[tuple[str, ...], ...],
             params: dict, view_html: str, summary: str, notices: list[str]) -> str:
    """The whole lab as first painted: controls, view, status line, no-JS notice."""
    defaults = json.dumps({c.name: c.default for c in controls}, separators=(",", ":"))
    return (
        f'<div class="lab" data-lab="{esc(name)}" data-state="static" data-defaults="{esc(defaults)}" '
        f'aria-label="{esc(title)}" role="region">'
        f'<div class="lab-status" data-lab-status><span class="lab-status__text" data-lab-status-text>'
        f"Snapshot computed at build time. The lab becomes interactive with JavaScript.</span>"
        f'<span class="lab-progress" data-lab-progress hidden><span class="lab-progress__bar"></span></span></div>'
        f"{controls_html(name, controls, params)}{actions_html(actions)}"
        f'<div class="lab-notices" data-lab-notices>{notices_html(notices)}</div>'
        f'<div class="lab-view" data-lab-view>{view_html}</div>'
        f'<div class="sr-only lab-live" aria-live="polite" data-lab-live>{esc(summary)}</div>'
        f"</div>"
    )
