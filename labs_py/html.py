"""Small HTML builders shared by every lab: escaping, metrics, controls, the lab root.

Why: one place decides the DOM contract the browser shim and the tests rely on
(`data-lab`, `data-state`, `data-control`, `data-metric` + `data-value`).
"""

from __future__ import annotations

import json
from html import escape

from labs_py.controls import Choice, Control, Multi, Slider, Toggle
from labs_py.lab import Guess, Metric, Options, Step, View


def esc(text: object) -> str:
    """HTML-escape anything (quotes included) for text and attribute positions."""
    return escape(str(text), quote=True)


def metric_tile(name: str, m: Metric) -> str:
    """One tile: the formatted text in `data-metric`, the raw value in `data-value` ("" when undefined)."""
    hint_html = f'<span class="lab-metric__hint">{esc(m.hint)}</span>' if m.hint else ""
    raw = "" if m.value is None else repr(float(m.value))
    undefined = " data-undefined" if m.value is None else ""
    return (
        f'<div class="lab-metric"><span class="lab-metric__label">{esc(m.label)}</span>'
        f'<span class="lab-metric__value" data-metric="{esc(name)}" data-value="{raw}"{undefined}>{esc(m.text)}</span>'
        f"{hint_html}</div>"
    )


def metric(name: str, value: float, text: str, label: str, hint: str = "") -> str:
    """A tile from loose values, for labs that still write tiles into their HTML (moving to View.metrics)."""
    return metric_tile(name, Metric(value, label, text, hint))


def metrics_grid(tiles: list[str]) -> str:
    """A responsive grid of tiles made by `metric`."""
    return f'<div class="lab-metrics">{"".join(tiles)}</div>'


def tiles_html(metrics: dict[str, Metric], headline: bool) -> str:
    """The headline tiles (beside the chart) or all the others (under "All numbers")."""
    tiles = "".join(metric_tile(k, m) for k, m in metrics.items() if m.headline == headline)
    return f'<div class="lab-metrics">{tiles}</div>' if tiles else ""


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


def _control_html(lab: str, c: Control, value: object, why_off: str | None) -> str:
    cid = f"{lab}-{c.name}"
    off = " disabled" if why_off else ""
    reason = f'<span class="lab-control__off" data-disabled-reason="{esc(c.name)}">{esc(why_off or "")}</span>'
    help_html = f'<span class="lab-control__help" id="{cid}-help">{esc(c.help)}</span>' if c.help else ""
    described = f' aria-describedby="{cid}-help {cid}-off"' if c.help else f' aria-describedby="{cid}-off"'
    reason = reason.replace("<span ", f'<span id="{cid}-off" ', 1)
    if isinstance(c, Slider):
        shown = f"{value:g}{c.unit}"
        return (
            f'<div class="lab-control lab-control--slider"><label for="{cid}">{esc(c.label)}</label>'
            f'<input type="range" id="{cid}" name="{esc(c.name)}" data-control="{esc(c.name)}" '
            f'min="{c.lo:g}" max="{c.hi:g}" step="{c.step:g}" value="{value:g}"{described}{off}>'
            f'<output for="{cid}" data-output="{esc(c.name)}">{esc(shown)}</output>{help_html}{reason}</div>'
        )
    if isinstance(c, Choice):
        opts = "".join(
            f'<option value="{esc(v)}"{" selected" if v == value else ""}>{esc(label)}</option>' for v, label in c.options
        )
        return (
            f'<div class="lab-control lab-control--choice"><label for="{cid}">{esc(c.label)}</label>'
            f'<select id="{cid}" name="{esc(c.name)}" data-control="{esc(c.name)}"{described}{off}>{opts}</select>'
            f"{help_html}{reason}</div>"
        )
    if isinstance(c, Toggle):
        checked = " checked" if value else ""
        return (
            f'<div class="lab-control lab-control--toggle"><input type="checkbox" id="{cid}" name="{esc(c.name)}" '
            f'data-control="{esc(c.name)}"{checked}{described}{off}><label for="{cid}">{esc(c.label)}</label>'
            f"{help_html}{reason}</div>"
        )
    if isinstance(c, Multi):
        chosen = str(value).split(",")
        boxes = "".join(
            f'<label class="lab-multi__item"><input type="checkbox" name="{esc(c.name)}" value="{esc(v)}" '
            f'data-control="{esc(c.name)}" data-multi{" checked" if v in chosen else ""}{off}>{esc(label)}</label>'
            for v, label in c.options
        )
        return (f'<fieldset class="lab-control lab-control--multi"{described}><legend>{esc(c.label)}</legend>'
                f'<div class="lab-multi">{boxes}</div>{help_html}{reason}</fieldset>')
    raise TypeError(f"unknown control {c!r}")


def controls_html(lab: str, controls: tuple[Control, ...], key: tuple[str, ...], params: dict,
                  disabled: dict[str, str]) -> str:
    """The form a reader operates: the key controls first, the rest under "Advanced"."""
    main = "".join(_control_html(lab, c, params[c.name], disabled.get(c.name)) for c in controls if c.name in key)
    rest = "".join(_control_html(lab, c, params[c.name], disabled.get(c.name)) for c in controls if c.name not in key)
    advanced = (f'<details class="lab-advanced" data-lab-advanced><summary>Advanced</summary>'
                f'<div class="lab-controls__grid">{rest}</div></details>') if rest else ""
    return f'<form class="lab-controls" data-lab-controls><div class="lab-controls__grid">{main}</div>{advanced}</form>'


def _action_button(name: str, label: str, key: str | None = None, confirm: str | None = None) -> str:
    shortcut = f' data-key="{esc(key)}" aria-keyshortcuts="{esc(key)}"' if key else ""
    ask = f' data-confirm="{esc(confirm)}"' if confirm else ""
    return (f'<button type="button" class="md-button lab-action" data-action="{esc(name)}"{shortcut}{ask} disabled>'
            f"{esc(label)}</button>")


def actions_html(actions: tuple[tuple[str, ...], ...]) -> str:
    """Buttons that send a named action to the lab (e.g. step, reset); `play` toggles repeated steps.

    Each action is (name, label) with two optional items: a keyboard shortcut (`data-key`) and a
    question the reader must confirm first (`data-confirm`); None skips either. When any button has
    a shortcut, a line says how to use them.
    """
    if not actions:
        return ""
    buttons = "".join(_action_button(*action) for action in actions)
    keys = [f"{esc(a[2].upper())} = {esc(a[1])}" for a in actions if len(a) > 2 and a[2]]
    hint = (f'<p class="lab-keys">Keyboard, while focus is inside the lab: {"; ".join(keys)}.</p>') if keys else ""
    return f'<div class="lab-actions" role="group" aria-label="Lab actions">{buttons}</div>{hint}'


def _predict_html(lab: str, step: Step) -> str:
    group = f"{lab}-step-{step.id}"
    if isinstance(step.predict, Options):
        items = "".join(
            f'<label class="lab-step__choice"><input type="radio" name="{esc(group)}" value="{esc(v)}" '
            f"data-step-predict>{esc(label)}</label>" for v, label in step.predict.choices
        )
        return f'<fieldset class="lab-step__predict"><legend>Your prediction</legend>{items}</fieldset>'
    if isinstance(step.predict, Guess):
        g = step.predict
        return (f'<div class="lab-step__predict lab-step__guess"><label for="{esc(group)}">Your prediction: {esc(g.label)}</label>'
                f'<input type="range" id="{esc(group)}" min="{g.lo:g}" max="{g.hi:g}" step="{g.step:g}" value="{g.default:g}" '
                f'data-step-predict data-unit="{esc(g.unit)}"><output data-step-guess>{g.default:g}{esc(g.unit)}</output></div>')
    raise TypeError(f"unknown prediction {step.predict!r}")


def steps_html(lab: str, steps: tuple[Step, ...]) -> str:
    """The guided predict → check steps: readable as text at build time, driven by controller.js live."""
    if not steps:
        return ""
    items = []
    for n, step in enumerate(steps, 1):
        setup = json.dumps(step.setup, separators=(",", ":"))
        action = f' data-setup-action="{esc(step.action)}"' if step.action else ""
        items.append(
            f'<li class="lab-step" data-step="{esc(step.id)}" data-step-state="open">'
            f'<p class="lab-step__q"><strong>Step {n}.</strong> {esc(step.question)}</p>'
            f'<button type="button" class="md-button lab-step__setup" data-step-setup data-setup="{esc(setup)}"{action} disabled>'
            f"Set it up</button>{_predict_html(lab, step)}"
            f'<button type="button" class="md-button md-button--primary lab-step__check" data-step-check disabled>Check</button>'
            f'<div class="lab-step__reveal" data-step-reveal aria-live="polite" hidden></div></li>'
        )
    return (f'<section class="lab-steps" aria-label="Guided steps"><h2 class="lab-steps__title">Predict, then check</h2>'
            f'<p class="lab-steps__how">Set up each experiment, commit to a prediction, then check it against what '
            f'the lab computes. <span data-lab-steps-progress></span> <button type="button" class="lab-steps__reset" '
            f'data-steps-reset>Reset step progress</button></p>'
            f'<ol class="lab-steps__list" data-lab-steps>{"".join(items)}</ol>'
            f'<div class="lab-steps__store" data-lab-steps-store></div></section>')


def slots(view: View) -> dict[str, str]:
    """The parts of the view the controller swaps on every update (everything else stays put)."""
    return {"chart": view.chart, "headline": tiles_html(view.metrics, True),
            "numbers": tiles_html(view.metrics, False), "body": view.html}


def lab_root(name: str, mod: object, params: dict, view: View, notices: list[str]) -> str:
    """The whole lab as first painted: question, status; key controls, headline tiles and the steps in a
    column beside the main chart (which stays in view while they are used); "All numbers" and the rest below."""
    controls = mod.CONTROLS
    defaults = json.dumps({c.name: c.default for c in controls}, separators=(",", ":"))
    parts = slots(view)
    numbers = (f'<details class="lab-all"><summary>All numbers</summary><div data-lab-slot="numbers">{parts["numbers"]}'
               f"</div></details>")
    return (
        f'<div class="lab" data-lab="{esc(name)}" data-state="static" data-defaults="{esc(defaults)}" '
        f'data-steps-total="{len(mod.STEPS)}" aria-label="{esc(mod.TITLE)}" role="region">'
        f'<p class="lab-question" data-lab-question>{esc(mod.QUESTION)}</p>'
        f'<div class="lab-status" data-lab-status><span class="lab-status__text" data-lab-status-text>'
        f"Snapshot computed at build time. The lab becomes interactive with JavaScript.</span>"
        f'<span class="lab-progress" data-lab-progress hidden><span class="lab-progress__bar"></span></span></div>'
        f'<div class="lab-view" data-lab-view><div class="lab-main">'
        f'<div class="lab-side">{controls_html(name, controls, mod.KEY, params, view.disabled)}{actions_html(mod.ACTIONS)}'
        f'<div class="lab-notices" data-lab-notices>{notices_html(notices)}</div></div>'
        f'<div class="lab-stage" data-lab-slot="chart">{parts["chart"]}</div>'
        f'<div class="lab-headline" data-lab-slot="headline">{parts["headline"]}</div>'
        f"{steps_html(name, mod.STEPS)}</div>"
        f'{numbers}<div class="lab-body" data-lab-slot="body">{parts["body"]}</div></div>'
        f'<div class="sr-only lab-live" aria-live="polite" data-lab-live>{esc(view.summary)}</div>'
        f"</div>"
    )
