"""Assembling a path-integration model (environment, encoders, architecture) from a resolved experiment."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gridzoo.architecture import Architecture, ArchitectureOutput
from gridzoo.config import Experiment, ResolvedComponent
from gridzoo.encoder import TargetEncoder
from gridzoo.errors import GridzooError, PluginError
from gridzoo.environment import Environment, Trajectories
from gridzoo.metric import Rollout
from gridzoo.seeding import Stream, generator, stream_seed


class PathIntegrator(nn.Module):
    """Encoders + architecture: from trajectories to readouts, targets and the training loss.

    Kept free of Lightning so that zoo models and analyses can use it without a trainer."""

    def __init__(self, environment: Environment, encoders: list[TargetEncoder], architecture: Architecture):
        super().__init__()
        self.environment = environment
        self.encoders = nn.ModuleList(encoders)
        self.architecture = architecture

    def _initial_code(self, trajectories: Trajectories, interventions) -> Tensor:
        if interventions and not self.architecture.supports_interventions:
            raise GridzooError(
                f"the architecture {type(self.architecture).__name__} does not support interventions (ablating or "
                "perturbing units); analyses that need them are not available for it"
            )
        return torch.cat(
            [e.initial_code(trajectories.start_position, trajectories.start_heading) for e in self.encoders], -1
        )

    def forward(self, trajectories: Trajectories, interventions=None) -> ArchitectureOutput:
        initial = self._initial_code(trajectories, interventions)
        if interventions:
            return self.architecture(trajectories.velocity, initial, interventions=interventions)
        return self.architecture(trajectories.velocity, initial)

    @torch.no_grad()
    def hidden_rollout(self, trajectories: Trajectories, interventions=None) -> dict[str, Tensor]:
        """The hidden layers alone, in evaluation mode: what rate maps need, without the readouts' cost."""
        was_training = self.training
        self.eval()
        try:
            initial = self._initial_code(trajectories, interventions)
            return self.architecture.hidden_states(trajectories.velocity, initial, interventions or None)
        finally:
            self.train(was_training)

    def loss(self, trajectories: Trajectories, output: ArchitectureOutput | None = None) -> Tensor:
        """Sum of each encoder's loss on its own readout, plus the architecture's regulariser."""
        output = self(trajectories) if output is None else output
        total = self.architecture.regularization()
        for encoder, readout in zip(self.encoders, output.outputs):
            total = total + encoder.loss(readout, encoder.encode(trajectories.position, trajectories.heading))
        return total

    @torch.no_grad()
    def rollout(self, trajectories: Trajectories, interventions=None) -> Rollout:
        """Run the network in evaluation mode (no dropout, no noise) and package what metrics need."""
        was_training = self.training
        self.eval()
        try:
            output = self(trajectories, interventions)
        finally:
            self.train(was_training)
        return Rollout(
            trajectories=trajectories,
            outputs=output.outputs,
            hidden=output.hidden,
            encoders=list(self.encoders),
            environment=self.environment,
            default_layer=self.architecture.default_layer,
            model=self,
        )


def construct(spec: ResolvedComponent, *args):
    """Build one component; an exception from the plugin's own code is reported as that plugin's, by name."""
    cls = spec.cls
    try:
        return cls(spec.config, *args)
    except GridzooError:
        raise
    except Exception as exc:
        import traceback

        info = spec.info
        error = PluginError(
            f"{spec.section}: the {info.kind[:-1]} {info.qualified_name!r} ({info.distribution} {info.version}) "
            f"failed to build: {type(exc).__name__}: {exc}"
        )
        error.details = traceback.format_exc()  # type: ignore[attr-defined]
        raise error from exc


def check_compatibility(experiment: Experiment) -> None:
    """Refuse combinations that would run but measure nothing, e.g. a decoding metric with no encoder that
    decodes positions: each metric checks the experiment (:meth:`gridzoo.metric.Metric.check_experiment`)."""
    for spec in experiment.metrics:
        spec.cls.check_experiment(experiment, spec.config, spec.section)


def build_model(experiment: Experiment) -> PathIntegrator:
    """Build every component of an experiment from its seed: centres from one stream, weights from another.

    Components signal a combination they cannot serve by raising IncompatibleComponentsError."""
    seed = experiment.training.seed
    environment = construct(experiment.environment)
    centres = generator(seed, Stream.CENTRES)
    encoders = [construct(spec, environment, centres) for spec in experiment.encoders]
    state = torch.random.get_rng_state()
    torch.manual_seed(stream_seed(seed, Stream.WEIGHTS))
    try:
        architecture = construct(
            experiment.architecture, environment.input_size, sum(e.size for e in encoders), [e.size for e in encoders]
        )
    finally:
        torch.random.set_rng_state(state)
    model = PathIntegrator(environment, encoders, architecture)
    check_outputs(model, experiment.architecture.info.name)
    return model


def check_outputs(model: PathIntegrator, name: str) -> None:
    """Run the new network once on two tiny trajectories (evaluation mode, no gradient, the global RNG restored,
    so that training is untouched) and refuse, before any run folder exists, an architecture whose forward does not
    return what the trainer and the analyses need: an ArchitectureOutput with one (B, T, size) readout per encoder
    and (B, T, units) hidden layers including its ``default_layer``."""
    from gridzoo.architecture import ArchitectureOutput
    from gridzoo.errors import PluginError

    batch, steps = 2, 3
    trajectories = model.environment.sample(batch, steps, generator=torch.Generator().manual_seed(0))
    state, was_training = torch.random.get_rng_state(), model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(trajectories)
    finally:
        model.train(was_training)
        torch.random.set_rng_state(state)
    sizes = [e.size for e in model.encoders]
    problem = None
    if not isinstance(output, ArchitectureOutput):
        problem = f"forward returned a {type(output).__name__}, not an ArchitectureOutput"
    elif len(output.outputs) != len(sizes):
        problem = f"forward returned {len(output.outputs)} readout(s) for {len(sizes)} target encoder(s)"
    else:
        for i, (readout, size) in enumerate(zip(output.outputs, sizes)):
            if not isinstance(readout, Tensor) or tuple(readout.shape) != (batch, steps, size):
                shape = tuple(readout.shape) if isinstance(readout, Tensor) else type(readout).__name__
                problem = f"readout {i} has shape {shape}, not (batch, steps, {size})"
                break
        else:
            layer = model.architecture.default_layer
            if not isinstance(output.hidden, dict) or not output.hidden:
                problem = "forward returned no hidden layers (hidden={'layer': (B, T, units)})"
            elif layer and layer not in output.hidden:
                problem = (f"its default_layer {layer!r} is not among the hidden layers it returns "
                           f"({', '.join(map(str, output.hidden))})")
            else:
                wrong = [k for k, v in output.hidden.items()
                         if not isinstance(v, Tensor) or v.dim() != 3 or tuple(v.shape[:2]) != (batch, steps)]
                if wrong:
                    problem = f"hidden layer {wrong[0]!r} is not (batch, steps, units)"
    if problem:
        raise PluginError(f"architecture {name!r}: {problem}; see docs/plugins.md (the architecture's forward)")


def evaluation_batch(experiment: Experiment, environment: Environment, device: torch.device | str = "cpu") -> Trajectories:
    """The fixed evaluation batch of an experiment (the same at every evaluation, in training and after)."""
    t = experiment.training
    return environment.sample(
        t.eval_batch_size,
        t.eval_seq_len or t.seq_len,
        generator=generator(t.seed, Stream.EVAL_BATCH, device=device),
        device=device,
    )
