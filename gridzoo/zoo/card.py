"""A zoo network's README.md card: what it is, the regime it was trained in, how it scores, how to use it.

The card says the regime plainly because a network trained at gridzoo's mini size is a pilot, not the paper's
model: the "Scale" table sets its sizes beside the paper-scale preset of the same model (when one ships), and the
"Grid-likeness" line says whether its best unit beats the best-unit null, so a high 60° score alone is never read
as a grid cell.
"""

from __future__ import annotations

from typing import Any

from gridzoo.analysis.verdicts import grid_verdict

#: Metrics every card's table shows (when present), after the catalogue's key metrics.
CARD_METRICS = ("best_unit_null_60", "best_unit_null_p", "fraction_active_score_60_over_null", "n_silent_units",
                "fraction_score_60_over_0.3", "untrained_score_60_max", "spatial_info_median_bits",
                "linear_error_cm", "n_lattice_units")

#: What the Scale table compares: (label, a function of the experiment's resolved config).
SCALE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("architecture", lambda c: c["architecture"]["name"].rpartition(":")[2]),
    ("units", lambda c: c["architecture"].get("hidden_size")),
    ("target cells", lambda c: ", ".join(str(e.get("n_cells", "-")) for e in _encoders(c))),
    ("arena (m)", lambda c: _arena(c["environment"])),
    ("training steps", lambda c: c["training"]["steps"]),
    ("batch", lambda c: c["training"]["batch_size"]),
    ("trajectory steps", lambda c: c["training"]["seq_len"]),
    ("learning rate", lambda c: f"{c['training']['lr']:g}"),
)


def _encoders(config: dict[str, Any]) -> list[dict[str, Any]]:
    encoders = config["encoder"]
    return encoders if isinstance(encoders, list) else [encoders]


def _arena(environment: dict[str, Any]) -> str:
    sizes = [environment[k] for k in ("width", "height", "depth") if isinstance(environment.get(k), (int, float))]
    return " × ".join(f"{s:g}" for s in sizes) if sizes else environment["name"].rpartition(":")[2]


def _bare(name: str) -> str:
    return str(name).rpartition(":")[2]


def paper_scale_preset(config: dict[str, Any], preset: str | None, name: str) -> tuple[str, dict[str, Any]] | None:
    """The shipped paper-scale preset of the same model: the network's preset (or name) without ``-mini`` if it
    exists, else a full-size preset with the same architecture and targets. None when none ships."""
    from gridzoo.config import load_experiment
    from gridzoo.presets import preset_names, preset_path

    names = preset_names()
    stems = [s[: -len("-mini")] for s in (preset, name) if s and s.endswith("-mini")]
    chosen = next((s for s in stems if s in names), None)
    if chosen is None:
        arch = _bare(config["architecture"]["name"])
        targets = sorted(_bare(e["name"]) for e in _encoders(config))
        for candidate in (n for n in names if not n.endswith("-mini")):
            full = load_experiment(preset_path(candidate)).to_dict(logging=False)
            if _bare(full["architecture"]["name"]) == arch and sorted(
                    _bare(e["name"]) for e in _encoders(full)) == targets:
                chosen = candidate
                break
    if chosen is None:
        return None
    return chosen, load_experiment(preset_path(chosen)).to_dict(logging=False)


def scale_lines(config: dict[str, Any], preset: str | None, name: str) -> list[str]:
    """The card's Scale section."""
    mini = any(s and s.endswith("-mini") for s in (preset, name))
    lines = ["## Scale", ""]
    if mini:
        lines += ["Trained at gridzoo's **mini size**, to train on a CPU core in minutes: a pilot network for trying "
                  "the tools and for small comparisons, not the paper's model at the paper's scale. Its numbers "
                  "say nothing about what the paper-scale network learns.", ""]
    reference = paper_scale_preset(config, preset, name)
    if reference is None:
        lines += ["No paper-scale preset ships for this combination.", ""]
        return lines
    ref_name, ref = reference
    lines += [f"| | this network | paper scale (preset `{ref_name}`) |", "|---|---|---|"]
    for label, get in SCALE_FIELDS:
        mine, theirs = get(config), get(ref)
        mark = "" if mine == theirs else " *"
        lines.append(f"| {label} | {mine}{mark} | {theirs} |")
    lines += ["", "`*`: differs from the paper-scale preset. Every other setting is in `config.json`.", ""]
    return lines


def render_card(name: str, revision: int, summary: str, experiment, metrics: dict[str, Any],
                extra: dict[str, Any], note: str, key_metrics: tuple[str, ...]) -> str:
    """The README.md card: what the network is, its components and papers, scale, training, metrics, use."""
    t = experiment.training
    lines = [f"# {name} (revision {revision})", "", summary, ""]
    if note:
        lines += [f"What changed in this revision: {note}", ""]
    lines += ["## Components", "", "| role | component | distribution | citation |", "|---|---|---|---|"]
    rows = [("environment", experiment.environment), ("architecture", experiment.architecture)]
    rows += [("encoder", e) for e in experiment.encoders]
    for role, c in rows:
        lines.append(f"| {role} | `{c.info.name}` | {c.info.distribution} {c.info.version} | {c.cls.citation or ''} |")
    lines += [""] + scale_lines(experiment.to_dict(logging=False), extra.get("preset"), name)
    machine = extra.get("trained_on")
    lines += ["## Training", "",
              f"{extra.get('trained_steps', t.steps)} steps, batch {t.batch_size}, {t.seq_len}-step trajectories, "
              f"{t.optimizer} (lr {t.lr:g}), seed {t.seed}, {t.precision}"
              + (f", from the preset `{extra['preset']}`" if extra.get("preset") else "") + "."
              + (f" Trained with {machine['threads']} thread(s) on {machine['cpu']}, torch "
                 f"{machine['versions']['torch']} (`trained_on` in `config.json`)." if machine else
                 " The machine, thread count and library versions it was trained with were not recorded "
                 "(it predates gridzoo's run records); `gridzoo zoo rebuild` retrains it on yours."),
              "The full resolved config, with every default, is in `config.json`; "
              f"`gridzoo zoo rebuild {name}` retrains it from that config and seed and compares the metrics.",
              "", "## Metrics", "", grid_verdict(metrics), "",
              "Evaluated with `gridzoo evaluate` defaults (scored layer, 44 bins, min-max 60° score, "
              "nulls: see `metrics.json`). `null` means undefined (e.g. no unit is active).", "",
              "| metric | value |", "|---|---|"]
    for key in dict.fromkeys(key_metrics + CARD_METRICS):
        if isinstance(metrics.get(key), (int, float)):
            lines.append(f"| {key} | {metrics[key]:.4g} |")
    lines += ["", "## Use", "", "```python", "import gridzoo", f"m = gridzoo.zoo.load({name!r})",
              "rollout = m.rollout(batch_size=50)", "```", "", "## Licence", "",
              "Weights: CC-BY-4.0. Code: gridzoo's licence (MIT).", ""]
    return "\n".join(lines)
