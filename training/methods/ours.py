"""Our lifter (issue 3, item 3) as training method "ours": unsupervised, never sees 3D.

It composes the two paper methods of this project, all in the "elepose" normalisation:

1. flow (skipped with ``flow_pretrain.init``): ElePose's 2D pose prior, PCA + RealNVP
   (training.models.flow.PosePrior), fitted on the training 2D exactly as method "elepose" does.
2. teacher: ``model.teacher: parts`` trains TIPSy's part-wise generators, a torso generator on
   the torso's 2D only and a leg generator on the legs' 2D only, with a whole-pose camera-elevation
   head (training.models.ours.PartsElevationLifter); ``model.teacher: whole`` trains ElePose's
   whole-body lifter instead (the control). Either is trained with ElePose's losses
   (training.losses.elepose.elepose_losses: flow NLL of reprojections to virtual cameras rotated
   by the predicted elevation and a learned elevation distribution, L3D, L2D, Ldef, relative
   bone-length prior), Adam ``optim.lr`` with ``optim.decay`` per epoch.
3. distill (the last ``distill.epochs`` epochs): one whole-body student
   (training.models.elepose_lifter.EleposeLifter, depth + elevation heads) learns the frozen
   teacher's depth and elevation by MSE (``distill.depth``, ``distill.elevation``), on the
   training 2D and, with ``distill.mirror``, its left-right mirror images, optionally keeping the
   ElePose losses on itself with weight ``distill.unsup``. ``distill.teacher: best_score`` distils
   the teacher of the epoch with the lowest 3D-free selection score, ``last`` the last one.

``lifter()`` is the student once it has trained (before: the teacher) with ElePose's plausibility
scorer attached (output ``nll``: the prior's NLL of the prediction's reprojections to fixed views at
the learned elevation distribution), so export writes depth, elevation and nll (contract 1).
``selection_score`` (3D-free, lower = better) is that NLL averaged over held-out 2D; it is reported
to the trainer only in the distill stage (so ``best.pt`` is always a distilled network) and kept
per teacher epoch in ``extra_state()["teacher_scores"]``.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import Tensor, nn

from training.losses.elepose import (
    FlipAveraged,
    PlausibilityScorer,
    ScoredLifter,
    bone_ratios_from_spec,
    elepose_losses,
)
from training.losses.tipsy import mirror_poses
from training.methods import Method, register
from training.models.elepose_lifter import EleposeLifter
from training.models.flow import FLOW_DEFAULTS, FLOW_PRETRAIN_DEFAULTS, PosePrior, PriorTrainer, load_prior_state
from training.models.ours import PartsElevationLifter

STAGES = ("flow", "teacher", "distill")


class RobustPrior(nn.Module):
    """A prior whose per-pose NLL is soft-capped above ``cap``: ``cap + log1p(nll - cap)``.

    An untrained lifter's reprojections lie far outside the 2D pose distribution, where the flow's
    NLL reaches 1e5..1e9 and its gradient blows the lifter up (measured on the Bandai 2D: the
    uncapped ElePose loss diverged in its first lifter epoch). Above the cap the loss still pulls
    toward plausible poses, with a gradient shrinking as 1 / (1 + nll - cap).
    """

    def __init__(self, prior: nn.Module, cap: float | None) -> None:
        super().__init__()
        self.prior = prior
        self.cap = None if cap is None else float(cap)

    def nll(self, poses2d: Tensor) -> Tensor:
        nll = self.prior.nll(poses2d)
        if self.cap is None:
            return nll
        over = torch.clamp(nll - self.cap, min=0.0)
        return torch.where(nll > self.cap, self.cap + torch.log1p(over), nll)


@register("ours")
class Ours(Method):
    normalization = "elepose"
    needs_3d = False
    defaults = {
        "model": {
            "teacher": "parts",  # parts (TIPSy torso + leg generators + elevation head) | whole (ElePose lifter)
            "width": 1024,
            "blocks": 3,  # parts teacher: each generator's width and residual blocks
            "elevation_width": None,
            "elevation_blocks": None,  # parts teacher's elevation head (None: as the generators)
            "common_blocks": 1,
            "head_blocks": 2,  # whole teacher (EleposeLifter)
            "student_width": None,
            "student_common_blocks": 1,
            "student_head_blocks": 2,  # None: as width
            "min_depth": 1.0,
            "flip_average": False,  # the exported lifter averages each pose with its mirror image (FlipAveraged)
        },
        "flow": FLOW_DEFAULTS,
        "flow_pretrain": FLOW_PRETRAIN_DEFAULTS,
        "optim": {"lr": 2e-4, "decay": 0.95, "weight_decay": 1e-5, "distill_lr": 1e-3, "distill_decay": 0.7},
        "loss": {
            "nll": 1.0,
            "l3d": 1.0,
            "l2d": 1.0,
            "ldef": 1.0,
            "bone": 50.0,
            "nll_cap": 0.0,
            "grad_clip": 10.0,
            "mirror": False,
        },
        "distill": {
            "epochs": 2,
            "depth": 1.0,
            "elevation": 1.0,
            "unsup": 0.0,
            "mirror": True,
            "teacher": "best_score",
            # extra frozen teachers: checkpoints of elepose/ours runs ("elepose" normalisation, depth +
            # elevation); the target is the mean over [own teacher (when trained)] + these
            "teachers": [],
            "own_teacher": True,
            # "first_teacher": the student starts from the weights of distill.teachers[0] (same
            # architecture needed) instead of random ones, so distilling cannot lose what that teacher knew
            "init_student": None,
        },
        "bone_prior": "bandai_train",
        "scorer": {"azimuths": 8, "elevation_sigmas": [-1.0, 0.0, 1.0], "export": True},
    }

    def __init__(self, config: dict, device: torch.device) -> None:
        super().__init__(config, device)
        seed = int(config.get("seed", 0))
        cfg = self.cfg = self.with_defaults(config)
        mc, dc = cfg["model"], cfg["distill"]
        if mc["teacher"] not in ("parts", "whole"):
            raise ValueError(f"model.teacher must be parts or whole, got {mc['teacher']!r}")
        if dc["teacher"] not in ("last", "best_score"):
            raise ValueError(f"distill.teacher must be last or best_score, got {dc['teacher']!r}")
        torch.manual_seed(seed)
        width = int(mc["width"])
        if mc["teacher"] == "parts":
            self.teacher: nn.Module = PartsElevationLifter(
                width, int(mc["blocks"]), mc["elevation_width"], mc["elevation_blocks"], float(mc["min_depth"])
            )
        else:
            self.teacher = EleposeLifter(
                width, int(mc["common_blocks"]), int(mc["head_blocks"]), True, float(mc["min_depth"])
            )
        self.student = EleposeLifter(
            int(mc["student_width"] or width),
            int(mc["student_common_blocks"]),
            int(mc["student_head_blocks"]),
            True,
            float(mc["min_depth"]),
        )
        self.teacher.to(self.device)
        self.student.to(self.device)
        self.prior = PosePrior.from_config(cfg["flow"], seed=seed).to(self.device)
        self.scorer = PlausibilityScorer(self.prior, azimuths=int(cfg["scorer"]["azimuths"])).to(self.device)
        self.bone_ratios = bone_ratios_from_spec(cfg["bone_prior"], self.device)
        self.loss_prior = RobustPrior(self.prior, cfg["loss"]["nll_cap"])

        fp, op = cfg["flow_pretrain"], cfg["optim"]
        self.flow_epochs = 0 if fp["init"] else int(fp["epochs"])
        if not fp["init"] and self.flow_epochs <= 0:
            raise ValueError(
                "ours: flow_pretrain.epochs must be > 0 unless flow_pretrain.init names a pretrained prior"
            )
        if fp["init"] and Path(fp["init"]).is_file():  # a rebuilt checkpoint carries the prior itself
            self.prior.load_state_dict(load_prior_state(fp["init"]))
        self.distill_epochs = int(dc["epochs"])
        epochs = int(config.get("epochs", 10))
        self.teacher_epochs = epochs - self.flow_epochs - self.distill_epochs
        self.extra_teacher_paths = [str(t) for t in (dc["teachers"] or [])]
        self._extra_teachers: list[nn.Module] | None = None
        min_teacher = 1 if dc["own_teacher"] else 0
        if dc["init_student"] not in (None, "first_teacher"):
            raise ValueError(f"distill.init_student must be null or first_teacher, got {dc['init_student']!r}")
        if dc["init_student"] and not self.extra_teacher_paths:
            raise ValueError("ours: distill.init_student: first_teacher needs distill.teachers")
        if not dc["own_teacher"] and not self.extra_teacher_paths:
            raise ValueError("ours: distill.own_teacher false needs distill.teachers (checkpoints to distil)")
        if (
            self.teacher_epochs < min_teacher
            or self.distill_epochs < 0
            or (self.teacher_epochs > 0 and not dc["own_teacher"])
        ):
            raise ValueError(
                f"ours: epochs ({epochs}) must exceed flow_pretrain.epochs ({self.flow_epochs}) + distill.epochs "
                f"({self.distill_epochs}) by at least one teacher epoch"
            )
        self.prior_trainer = PriorTrainer(self.prior, fp, seed=int(self.config.get("seed", 0)))
        self.opt_flow = self.prior_trainer.optimizer
        self.opt_teacher = torch.optim.Adam(
            self.teacher.parameters(), lr=float(op["lr"]), weight_decay=float(op["weight_decay"])
        )
        self.opt_student = torch.optim.Adam(self.student.parameters(), lr=float(op["distill_lr"]))
        self.sched_teacher = torch.optim.lr_scheduler.ExponentialLR(self.opt_teacher, gamma=float(op["decay"]))
        self.sched_student = torch.optim.lr_scheduler.ExponentialLR(self.opt_student, gamma=float(op["distill_decay"]))

        self.epochs_done = 0
        self.distill_steps = 0
        self.elev_mu, self.elev_sigma = 0.0, 0.0
        self._epoch_elev: list[tuple[float, float]] = []
        self.teacher_scores: dict[int, float] = {}
        self.best_teacher: dict = {}
        self._update_views()

    # -- helpers -----------------------------------------------------------------------------
    def _update_views(self) -> None:
        sc = self.cfg["scorer"]
        elevs = [self.elev_mu + s * self.elev_sigma for s in sc["elevation_sigmas"]]
        self.scorer.set_elevations(elevs, int(sc["azimuths"]))

    @property
    def stage(self) -> str:
        """ "flow", then "teacher", then "distill" (by finished epochs)."""
        if self.epochs_done < self.flow_epochs:
            return "flow"
        if self.epochs_done < self.flow_epochs + self.teacher_epochs:
            return "teacher"
        return "distill"

    def _net(self) -> nn.Module:
        """The current lifting network: the student once it has trained, else the teacher."""
        return self.student if self.distill_steps > 0 else self.teacher

    # -- contract (3) --------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"teacher": self.teacher, "student": self.student, "prior": self.prior}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"flow": self.opt_flow, "teacher": self.opt_teacher, "student": self.opt_student}

    def schedulers(self) -> dict:
        return {"teacher": self.sched_teacher, "student": self.sched_student}

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, float]:
        poses2d = batch["poses2d"].to(self.device, torch.float32)
        stage = self.stage
        if stage == "flow":
            return self.prior_trainer.step(poses2d)
        if not self.prior.fitted:
            init = self.cfg["flow_pretrain"]["init"]
            raise FileNotFoundError(
                f"ours: the lifter stages need a fitted prior (flow_pretrain.init {init!r} is missing)"
            )
        if stage == "teacher":
            return self._teacher_step(poses2d)
        return self._distill_step(poses2d)

    def _unsup(self, net: nn.Module, poses2d: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        self.prior.eval()
        self.prior.requires_grad_(False)
        w = self.cfg["loss"]
        terms = elepose_losses(net, self.loss_prior, poses2d, self.bone_ratios, True)
        loss = sum(float(w[k]) * terms[k] for k in ("nll", "l3d", "l2d", "ldef", "bone"))
        self._epoch_elev.append((float(terms["elevation_mean"]), float(terms["elevation_std"])))
        return loss, terms

    def _mirror_half(self, poses2d: Tensor) -> Tensor:
        """TIPSy's augmentation: a random half of the batch mirrored left-right (a valid pose)."""
        flip = torch.rand(poses2d.shape[0], device=poses2d.device) < 0.5
        return torch.where(flip[:, None, None], mirror_poses(poses2d), poses2d)

    def _teacher_step(self, poses2d: Tensor) -> dict[str, float]:
        if self.cfg["loss"]["mirror"]:
            poses2d = self._mirror_half(poses2d)
        self.teacher.train()
        loss, terms = self._unsup(self.teacher, poses2d)
        self.opt_teacher.zero_grad(set_to_none=True)
        loss.backward()
        clip = float(self.cfg["loss"]["grad_clip"] or 0.0)
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(self.teacher.parameters(), clip)
        self.opt_teacher.step()
        out = {"loss": float(loss.detach())}
        out.update({k: float(v.detach()) for k, v in terms.items()})
        return out

    def extra_teachers(self) -> list[nn.Module]:
        """The frozen networks of ``distill.teachers`` (loaded on first use), in eval mode."""
        if self._extra_teachers is None:
            from training.teachers import network

            self._extra_teachers = [network(path, self.device) for path in self.extra_teacher_paths]
        return self._extra_teachers

    @torch.no_grad()
    def teacher_targets(self, poses2d: Tensor) -> dict[str, Tensor]:
        """The distillation target: mean depth and elevation of all teachers (own and extra)."""
        nets = ([self.teacher] if self.cfg["distill"]["own_teacher"] else []) + self.extra_teachers()
        outs = [net(poses2d) for net in nets]
        target = {"depth": torch.stack([o["depth"] for o in outs]).mean(0)}
        elevs = [o["elevation"] for o in outs if "elevation" in o]
        target["elevation"] = torch.stack(elevs).mean(0) if elevs else torch.zeros_like(poses2d[:, 0, 0])
        return target

    def _distill_step(self, poses2d: Tensor) -> dict[str, float]:
        if self.distill_steps == 0 and self.cfg["distill"]["teacher"] == "best_score" and self.best_teacher:
            self.teacher.load_state_dict(self.best_teacher["state"])
        dc = self.cfg["distill"]
        if self.distill_steps == 0 and dc["init_student"] == "first_teacher":
            try:
                self.student.load_state_dict(self.extra_teachers()[0].state_dict())
            except RuntimeError as e:
                raise ValueError(
                    f"distill.init_student: {self.extra_teacher_paths[0]} is not the student's architecture "
                    f"(model.student_*): {e}"
                ) from e
        if dc["mirror"]:
            poses2d = self._mirror_half(poses2d)
        self.teacher.eval()
        self.student.train()
        target = self.teacher_targets(poses2d)
        pred = self.student(poses2d)
        l_depth = (pred["depth"] - target["depth"]).square().mean()
        l_elev = (pred["elevation"] - target["elevation"]).square().mean()
        loss = float(dc["depth"]) * l_depth + float(dc["elevation"]) * l_elev
        out = {"distill": 0.0, "distill_depth": float(l_depth.detach()), "distill_elevation": float(l_elev.detach())}
        if float(dc["unsup"]) > 0:
            unsup, terms = self._unsup(self.student, poses2d)
            loss = loss + float(dc["unsup"]) * unsup
            out.update({k: float(v.detach()) for k, v in terms.items()})
        else:
            e = pred["elevation"].detach()
            self._epoch_elev.append((float(e.mean()), float(e.std()) if e.numel() > 1 else 0.0))
        self.opt_student.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_student.step()
        self.distill_steps += 1
        out["distill"] = float(loss.detach())
        return out

    def end_epoch(self, epoch: int) -> None:
        stage = self.stage
        if stage == "flow":
            self.prior_trainer.finish()
        elif stage == "teacher":
            self.sched_teacher.step()
        elif stage == "distill":
            self.sched_student.step()
        if self._epoch_elev:
            self.elev_mu = sum(m for m, _ in self._epoch_elev) / len(self._epoch_elev)
            self.elev_sigma = sum(s for _, s in self._epoch_elev) / len(self._epoch_elev)
            self._epoch_elev = []
            self._update_views()
        self.epochs_done += 1

    def lifter(self) -> nn.Module:
        net = self._net()
        if self.cfg["model"]["flip_average"]:
            net = FlipAveraged(net)
        return ScoredLifter(net, self.scorer) if self.cfg["scorer"]["export"] else net

    @torch.no_grad()
    def plausibility(self, poses2d: Tensor, net: nn.Module | None = None) -> float:
        """Mean plausibility NLL of a network's predictions on (held-out) 2D; no 3D used."""
        net = net if net is not None else self._net()
        was = net.training
        net.eval()
        self.prior.eval()
        total, n = 0.0, 0
        for chunk in poses2d.to(self.device, torch.float32).split(4096):
            out = net(chunk)
            total += float(self.scorer(chunk, out["depth"], out.get("elevation")).sum())
            n += chunk.shape[0]
        net.train(was)
        return total / max(n, 1)

    @torch.no_grad()
    def selection_score(self, poses2d: Tensor) -> float | None:
        """3D-free model selection (lower = better): mean plausibility NLL on held-out 2D. In the
        teacher stage it is recorded (and the best teacher kept) but not reported, so that the
        trainer's best.pt is a distilled network."""
        if not self.prior.fitted or self.epochs_done <= self.flow_epochs:
            return None
        score = self.plausibility(poses2d)
        epoch = self.epochs_done - 1  # the epoch just finished
        if epoch < self.flow_epochs + self.teacher_epochs:
            self.teacher_scores[epoch] = score
            if not self.best_teacher or score < self.best_teacher["score"]:
                state = {k: v.detach().clone() for k, v in self.teacher.state_dict().items()}
                self.best_teacher = {"score": float(score), "epoch": epoch, "state": state}
            return None
        return score

    def extra_state(self) -> dict:
        state = {
            "epochs_done": self.epochs_done,
            "distill_steps": self.distill_steps,
            "elev_mu": self.elev_mu,
            "elev_sigma": self.elev_sigma,
            "teacher_scores": {str(k): v for k, v in self.teacher_scores.items()},
            "pca_variance_kept": self.prior.variance_kept,
        }
        if self.best_teacher:
            state["best_teacher"] = {
                "score": self.best_teacher["score"],
                "epoch": self.best_teacher["epoch"],
                "state": self.best_teacher["state"],
            }
        return state

    def load_extra_state(self, state: dict) -> None:
        self.epochs_done = int(state.get("epochs_done", self.epochs_done))
        self.distill_steps = int(state.get("distill_steps", self.distill_steps))
        self.elev_mu = float(state.get("elev_mu", self.elev_mu))
        self.elev_sigma = float(state.get("elev_sigma", self.elev_sigma))
        self.teacher_scores = {int(k): float(v) for k, v in (state.get("teacher_scores") or {}).items()}
        bt = state.get("best_teacher")
        self.best_teacher = copy.copy(dict(bt)) if bt else {}
        self._update_views()
