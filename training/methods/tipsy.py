"""TIPSy-GAN (Hardy et al.) as training methods "tipsy" and "tipsy_solo" (contract 3).

"tipsy": a torso generator and a leg generator (each predicting the depth of its own keypoints
from those keypoints' 2D only) trained adversarially against one 2D discriminator, with the
reprojection-consistency cycle through random rotations and the three 90-degree consistency
terms; each generator takes the losses of its own keypoints. After ``epochs - distill_epochs``
epochs the method switches to distillation: a whole-body student learns the generators' depth by
MSE, and becomes ``lifter()``.

"tipsy_solo": the same training with one generator for the whole pose (the paper's baseline).

Unsupervised: only batch["poses2d"] (tipsy-normalised 2D) is read; no 3D ever.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from hpe3d_ros import skeleton
from training.losses import tipsy as L
from training.methods import Method, register
from training.models.tipsy import build_discriminator, build_generator, build_student

_MODEL_DEFAULTS = {
    "hidden": 1024,
    "blocks": 4,
    "dropout": 0.0,
    "activation": "relu",
    "batchnorm": True,
    "disc_hidden": None,  # None: as hidden
    "disc_blocks": None,  # None: blocks - 1
    "disc_dropout": 0.0,
    "disc_batchnorm": False,
}
_LOSS_DEFAULTS = {
    "adv_legs": 0.05,
    "adv_torso": 0.08,
    "adv_solo": 0.08,
    "reprojection": 10.0,
    "ninety": 3.0,
    "label_flip": 0.05,
    "azimuth_deg": 180.0,  # azimuth uniform in [-a, a]
    "elevation_deg": 10.0,  # elevation uniform in [-e, e] (pi/18)
    "mirror": True,  # left-right mirrored copies of half of each batch (labels swapped)
}
_OPTIM_DEFAULTS = {"lr": 2e-4, "disc_lr": 2e-4, "betas": [0.9, 0.999]}
_SELECTION_DEFAULTS = {"rotations": 8, "seed": 0, "chunk": 8192}


class _TipsyBase(Method):
    """Shared GAN stage of both variants."""

    normalization = "tipsy"
    needs_3d = False
    parts_layout = "torso_legs"

    def __init__(self, config: dict, device: torch.device) -> None:
        super().__init__(config, device)
        self.model_cfg = {**_MODEL_DEFAULTS, **(config.get("model") or {})}
        self.loss_cfg = {**_LOSS_DEFAULTS, **(config.get("loss") or {})}
        self.optim_cfg = {**_OPTIM_DEFAULTS, **(config.get("optim") or {})}
        self.selection_cfg = {**_SELECTION_DEFAULTS, **(config.get("selection") or {})}
        torch.manual_seed(int(config.get("seed", 0)))
        self.generator = build_generator(self.parts_layout, self.model_cfg).to(self.device)
        self.discriminator = build_discriminator(self.model_cfg).to(self.device)
        betas = tuple(float(b) for b in self.optim_cfg["betas"])
        self._gen_opts = {
            f"gen_{name}": torch.optim.Adam(params, lr=float(self.optim_cfg["lr"]), betas=betas)
            for name, params in self._part_params().items()
        }
        self._disc_opt = torch.optim.Adam(
            self.discriminator.parameters(), lr=float(self.optim_cfg["disc_lr"]), betas=betas
        )
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(int(config.get("seed", 0)) + 7919)
        self.epochs_done = 0

    # -- parts -------------------------------------------------------------------------------
    def _part_params(self) -> dict[str, list[nn.Parameter]]:
        if self.parts_layout == "torso_legs":
            return {"torso": list(self.generator.torso.parameters()), "legs": list(self.generator.legs.parameters())}
        return {"body": list(self.generator.parameters())}

    def _part_joints(self) -> dict[str, tuple[int, ...]]:
        if self.parts_layout == "torso_legs":
            return {"torso": skeleton.TORSO, "legs": skeleton.LEGS}
        return {"body": tuple(range(skeleton.NUM_JOINTS))}

    def _adv_weight(self, part: str) -> float:
        return float(self.loss_cfg[f"adv_{part}" if part != "body" else "adv_solo"])

    # -- contract ----------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {**self._gen_opts, "discriminator": self._disc_opt}

    def lifter(self) -> nn.Module:
        return self.generator

    def extra_state(self) -> dict:
        return {"epochs_done": self.epochs_done, "rng": self.rng.get_state()}

    def load_extra_state(self, state: dict) -> None:
        self.epochs_done = int(state.get("epochs_done", 0))
        if "rng" in state:
            self.rng.set_state(torch.as_tensor(state["rng"], dtype=torch.uint8).cpu())

    def end_epoch(self, epoch: int) -> None:
        self.epochs_done += 1

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        return self._gan_step(batch["poses2d"].to(self.device, torch.float32))

    # -- the GAN stage -----------------------------------------------------------------------
    def _rotations(self, n: int) -> torch.Tensor:
        az = math.radians(float(self.loss_cfg["azimuth_deg"]))
        el = math.radians(float(self.loss_cfg["elevation_deg"]))
        return L.random_rotations(n, self.rng, (-az, az), (-el, el), device=self.device)

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        if not self.loss_cfg["mirror"]:
            return x
        flip = torch.rand(x.shape[0], generator=self.rng, device=self.device) < 0.5
        return torch.where(flip[:, None, None], L.mirror_poses(x), x)

    def _gan_step(self, x: torch.Tensor) -> dict[str, float]:
        x = self._augment(x)
        n = x.shape[0]
        self.generator.train()
        self.discriminator.train()
        # Discriminator: real input 2D against rotated reprojections of the lifted poses.
        with torch.no_grad():
            fake, _ = L.view(L.lift(x, self.generator.depth(x)), self._rotations(n))
        d_loss = L.discriminator_loss(
            self.discriminator.logits(x), self.discriminator.logits(fake), float(self.loss_cfg["label_flip"]), self.rng
        )
        self._disc_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self._disc_opt.step()
        # Generators: adversarial + reprojection cycle + 90-degree terms, each on its own keypoints.
        terms = L.generator_terms(self.generator.depth, x, self._rotations(n))
        adv = L.generator_adversarial_loss(self.discriminator.logits(terms["fake2d"]))
        stats = {"disc": float(d_loss.detach()), "adv": float(adv.detach())}
        parts = self._part_params()
        joints = self._part_joints()
        losses = {}
        for part in parts:
            rep = L.part_mean(terms["reprojection"], joints[part])
            ninety = L.part_mean(terms["ninety"], joints[part])
            losses[part] = (
                self._adv_weight(part) * adv
                + float(self.loss_cfg["reprojection"]) * rep
                + float(self.loss_cfg["ninety"]) * ninety
            )
            stats[f"reprojection_{part}"] = float(rep.detach())
            stats[f"ninety_{part}"] = float(ninety.detach())
            stats[f"gen_{part}"] = float(losses[part].detach())
        # All gradients first (each part's loss into its own generator only), then the steps.
        grads = {
            part: torch.autograd.grad(losses[part], params, retain_graph=i < len(parts) - 1, allow_unused=True)
            for i, (part, params) in enumerate(parts.items())
        }
        for part, params in parts.items():
            for p, g in zip(params, grads[part]):
                p.grad = g
            self._gen_opts[f"gen_{part}"].step()
            for p in params:
                p.grad = None
        return stats

    # -- model selection without 3D ----------------------------------------------------------
    @torch.no_grad()
    def consistency_error(self, poses2d: torch.Tensor, lifter: nn.Module | None = None) -> dict[str, float]:
        """Reprojection-cycle and 90-degree errors of a lifter on (held-out) 2D, over a fixed set
        of random rotations: both need no 3D. Returns {"reprojection", "ninety", "score"}."""
        lifter = lifter if lifter is not None else self.lifter()
        was_training = lifter.training
        lifter.eval()
        gen = torch.Generator(device="cpu")
        gen.manual_seed(int(self.selection_cfg["seed"]))
        az = math.radians(float(self.loss_cfg["azimuth_deg"]))
        el = math.radians(float(self.loss_cfg["elevation_deg"]))
        rep_sum = ninety_sum = 0.0
        count = 0
        depth_fn = lambda p: lifter(p)["depth"]  # noqa: E731
        for chunk in poses2d.to(self.device, torch.float32).split(int(self.selection_cfg["chunk"])):
            for _ in range(int(self.selection_cfg["rotations"])):
                rot = L.random_rotations(chunk.shape[0], gen, (-az, az), (-el, el)).to(self.device)
                terms = L.generator_terms(depth_fn, chunk, rot)
                rep_sum += float(terms["reprojection"].mean()) * chunk.shape[0]
                ninety_sum += float(terms["ninety"].mean()) * chunk.shape[0]
                count += chunk.shape[0]
        lifter.train(was_training)
        rep, ninety = rep_sum / max(count, 1), ninety_sum / max(count, 1)
        w_rep, w_90 = float(self.loss_cfg["reprojection"]), float(self.loss_cfg["ninety"])
        return {"reprojection": rep, "ninety": ninety, "score": w_rep * rep + w_90 * ninety}

    def selection_score(self, poses2d: torch.Tensor) -> float | None:
        """3D-free model-selection signal (lower is better): the weighted reprojection-cycle and
        90-degree consistency errors of ``lifter()`` on held-out 2D."""
        return self.consistency_error(poses2d)["score"]


@register("tipsy_solo")
class TipsySolo(_TipsyBase):
    """The solo-generator baseline: one generator lifts the whole pose, trained like TIPSy."""

    parts_layout = "solo"
    defaults = {
        "model": dict(_MODEL_DEFAULTS),
        "optim": dict(_OPTIM_DEFAULTS),
        "loss": dict(_LOSS_DEFAULTS),
        "selection": dict(_SELECTION_DEFAULTS),
    }


@register("tipsy")
class Tipsy(_TipsyBase):
    """TIPSy: torso + leg generators, then distillation into one whole-body student (``lifter()``).

    ``stages.teacher``: which generators the student learns from: "last" (those of the last GAN
    epoch) or "best_score" (those of the GAN epoch with the lowest 3D-free ``selection_score``,
    as the trainer computed it on the validation 2D after each epoch).
    """

    parts_layout = "torso_legs"
    defaults = {
        "model": {**_MODEL_DEFAULTS, "student_hidden": None, "student_blocks": None},
        "optim": {**_OPTIM_DEFAULTS, "distill_lr": 2e-4},
        "loss": dict(_LOSS_DEFAULTS),
        "selection": dict(_SELECTION_DEFAULTS),
        "stages": {
            "distill_epochs": 1,
            "teacher": "last",
        },  # the last N epochs distil; the ones before train the generators
    }

    def __init__(self, config: dict, device: torch.device) -> None:
        super().__init__(config, device)
        stages = {**self.defaults["stages"], **(config.get("stages") or {})}
        self.distill_epochs = int(stages["distill_epochs"])
        self.teacher = str(stages["teacher"])
        if self.teacher not in ("last", "best_score"):
            raise ValueError(f"stages.teacher must be last or best_score, got {self.teacher!r}")
        epochs = int(config.get("epochs", 10))
        if not 0 <= self.distill_epochs < epochs:
            raise ValueError(f"stages.distill_epochs must be in [0, epochs={epochs}), got {self.distill_epochs}")
        self.gan_epochs = epochs - self.distill_epochs
        self.student = build_student(self.model_cfg).to(self.device)
        self._student_opt = torch.optim.Adam(
            self.student.parameters(),
            lr=float(self.optim_cfg["distill_lr"]),
            betas=tuple(float(b) for b in self.optim_cfg["betas"]),
        )
        self.distill_steps = 0
        self.best_teacher: dict = {}  # {"score", "epoch", "state"} of the best-scoring generators

    @property
    def stage(self) -> str:
        """ "gan" while the generators train, then "distill"."""
        return "gan" if self.epochs_done < self.gan_epochs else "distill"

    def modules(self) -> dict[str, nn.Module]:
        return {**super().modules(), "student": self.student}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {**super().optimizers(), "student": self._student_opt}

    def extra_state(self) -> dict:
        state = {**super().extra_state(), "distill_steps": self.distill_steps}
        if self.best_teacher:
            state["best_teacher"] = self.best_teacher
        return state

    def load_extra_state(self, state: dict) -> None:
        super().load_extra_state(state)
        self.distill_steps = int(state.get("distill_steps", 0))
        self.best_teacher = dict(state.get("best_teacher", {}))

    def lifter(self) -> nn.Module:
        """The torso+legs generators until the student has trained, then the distilled student."""
        return self.generator if self.distill_steps == 0 else self.student

    def selection_score(self, poses2d: torch.Tensor) -> float | None:
        score = super().selection_score(poses2d)
        if self.distill_steps == 0 and (not self.best_teacher or score < self.best_teacher["score"]):
            state = {k: v.detach().clone() for k, v in self.generator.state_dict().items()}
            self.best_teacher = {"score": float(score), "epoch": self.epochs_done - 1, "state": state}
        return score

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        x = batch["poses2d"].to(self.device, torch.float32)
        if self.stage == "gan":
            return self._gan_step(x)
        if self.distill_steps == 0 and self.teacher == "best_score" and self.best_teacher:
            self.generator.load_state_dict(self.best_teacher["state"])
        return self._distill_step(x)

    def _distill_step(self, x: torch.Tensor) -> dict[str, float]:
        x = self._augment(x)
        self.generator.eval()
        self.student.train()
        with torch.no_grad():
            target = L.root_relative_depth(self.generator.depth(x))
        loss = L.distillation_loss(self.student.depth(x), target)
        self._student_opt.zero_grad(set_to_none=True)
        loss.backward()
        self._student_opt.step()
        self.distill_steps += 1
        return {"distill": float(loss.detach())}
