"""ElePose (Wandt et al., CVPR 2022) as a training method: unsupervised, never sees 3D.

Two stages in one run (``epochs`` = ``flow_pretrain.epochs`` + lifter epochs):

1. flow: the PCA (``flow.num_bases`` bases) is fitted on the first ``flow_pretrain.pca_samples``
   training 2D poses, then the RealNVP prior is trained by maximum likelihood on the training 2D
   (Adam ``flow_pretrain.lr``). Skipped when ``flow_pretrain.init`` names a pretrained prior.
2. lifter: the prior is frozen; the lifter (depth + elevation heads) is trained with
   ``loss.nll * NLL + loss.l3d * L3D + loss.l2d * L2D + loss.ldef * Ldef + loss.bone * bone``
   (training.losses.elepose), Adam ``optim.lr`` with ``optim.decay`` per epoch.

Ablations (config): ``model.elevation_head: false`` (fixed elevation range instead of the learned
distribution), ``flow.use_pca: false`` (flow on the raw 30 non-root coordinates), ``bone_prior: none``.

``lifter()`` returns the lifter with the plausibility scorer attached (output ``nll``, fixed views
at the learned elevation distribution's ``scorer.elevation_sigmas`` quantiles and ``scorer.azimuths``
azimuths), so export writes the "nll" output of contract (1). ``selection_score`` is that NLL
averaged over held-out 2D (lower = better): model selection without 3D.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor, nn

from training.losses.elepose import (
    PlausibilityScorer,
    ScoredLifter,
    bone_ratios_from_spec,
    elepose_losses,
)
from training.methods import Method, register
from training.models.elepose_lifter import EleposeLifter
from training.models.flow import FLOW_DEFAULTS, FLOW_PRETRAIN_DEFAULTS, PosePrior, PriorTrainer, load_prior_state

NO_ELEVATION_VIEWS = [-math.pi / 18, 0.0, math.pi / 18]


@register("elepose")
class ElePose(Method):
    normalization = "elepose"
    needs_3d = False
    defaults = {
        "model": {"width": 1024, "common_blocks": 1, "head_blocks": 2, "elevation_head": True, "min_depth": 1.0},
        "flow": FLOW_DEFAULTS,
        "flow_pretrain": FLOW_PRETRAIN_DEFAULTS,
        # grad_clip > 0: clip the lifter's gradient norm (a fresh optimiser on a trained lifter can otherwise
        # take one step into poses that explode L3D/Ldef; 0 = off, as the paper)
        "optim": {"lr": 2e-4, "decay": 0.95, "weight_decay": 1e-5, "grad_clip": 0.0},
        # Fine-tuning: an elepose checkpoint whose lifter (and learned elevation distribution) this run
        # starts from, with a fresh optimiser: adapting a trained lifter to new unlabeled 2D (another
        # camera, more footage). Needs flow_pretrain.init (the prior is not trained again).
        "init_lifter": None,
        "loss": {"nll": 1.0, "l3d": 1.0, "l2d": 1.0, "ldef": 1.0, "bone": 50.0},
        # Robustness to the per-pose head normalisation (training.losses.elepose.elepose_losses).
        "robust": {"nll_soft_max": 0.0, "min_reprojection_scale": 0.25},
        # bandai_train (training-split proportions, as the paper) | anthropometric | none
        # | 15 ratios (skeleton.BONES order)
        "bone_prior": "bandai_train",
        "scorer": {"azimuths": 8, "elevation_sigmas": [-1.0, 0.0, 1.0], "export": True},
    }

    def __init__(self, config: dict, device: torch.device) -> None:
        super().__init__(config, device)
        seed = int(config.get("seed", 0))
        cfg = self.cfg = self.with_defaults(config)
        torch.manual_seed(seed)
        self.net = EleposeLifter.from_config(cfg["model"]).to(self.device)
        self.use_elevation = bool(cfg["model"]["elevation_head"])
        self.prior = PosePrior.from_config(cfg["flow"], seed=seed).to(self.device)
        self.scorer = PlausibilityScorer(self.prior, azimuths=int(cfg["scorer"]["azimuths"])).to(self.device)
        self.bone_ratios = bone_ratios_from_spec(cfg["bone_prior"], self.device)
        fp, op = cfg["flow_pretrain"], cfg["optim"]
        self.flow_epochs = int(fp["epochs"])
        self.stage = "flow" if self.flow_epochs > 0 else "lifter"
        if fp["init"]:
            # A checkpoint rebuilt later (export, eval) carries the prior itself: load lazily.
            if Path(fp["init"]).is_file():
                self.prior.load_state_dict(load_prior_state(fp["init"]))
            self.stage = "lifter"
        elif self.flow_epochs <= 0:
            raise ValueError(
                "elepose: flow_pretrain.epochs must be > 0 unless flow_pretrain.init names a pretrained prior"
            )
        self.flow_epochs_done = 0
        self.prior_trainer = PriorTrainer(self.prior, fp, seed=int(self.config.get("seed", 0)))
        self.opt_flow = self.prior_trainer.optimizer
        self.opt_lifter = torch.optim.Adam(
            self.net.parameters(), lr=float(op["lr"]), weight_decay=float(op["weight_decay"])
        )
        self.sched_lifter = torch.optim.lr_scheduler.ExponentialLR(self.opt_lifter, gamma=float(op["decay"]))
        self.elev_mu, self.elev_sigma, self._elev_n = 0.0, 0.0, 0
        self._epoch_elev: list[tuple[float, float]] = []
        if cfg["init_lifter"]:
            if not fp["init"]:
                raise ValueError(
                    "elepose: init_lifter needs flow_pretrain.init (the prior the lifter was trained with)"
                )
            if Path(cfg["init_lifter"]).is_file():  # a checkpoint rebuilt later (export, eval) carries its own weights
                self._init_lifter(str(cfg["init_lifter"]))
        self._update_views()

    def _init_lifter(self, path: str) -> None:
        from training.trainer import method_from_checkpoint

        source, _ = method_from_checkpoint(path, self.device)
        if not isinstance(source, ElePose):
            raise ValueError(f"elepose: init_lifter {path} is a {type(source).__name__} checkpoint, not an elepose one")
        try:
            self.net.load_state_dict(source.net.state_dict())
        except RuntimeError as e:
            raise ValueError(f"elepose: init_lifter {path} has another lifter architecture than model.*: {e}") from e
        self.elev_mu, self.elev_sigma = source.elev_mu, source.elev_sigma

    # -- configuration helpers ---------------------------------------------------------------
    def _update_views(self) -> None:
        sc = self.cfg["scorer"]
        if self.use_elevation:
            elevs = [self.elev_mu + s * self.elev_sigma for s in sc["elevation_sigmas"]]
        else:
            elevs = NO_ELEVATION_VIEWS
        self.scorer.set_elevations(elevs, int(sc["azimuths"]))

    # -- contract (3) --------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"lifter": self.net, "prior": self.prior}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"flow": self.opt_flow, "lifter": self.opt_lifter}

    def schedulers(self) -> dict:
        return {"lifter": self.sched_lifter}

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, float]:
        poses2d = batch["poses2d"].to(self.device, torch.float32)
        if self.stage == "flow":
            return self.prior_trainer.step(poses2d)
        return self._lifter_step(poses2d)

    def _lifter_step(self, poses2d: Tensor) -> dict[str, float]:
        if not self.prior.fitted:
            init = self.cfg["flow_pretrain"]["init"]
            raise FileNotFoundError(
                f"elepose: the lifter stage needs a fitted prior: flow_pretrain.init {init!r} is missing"
                if init
                else "elepose: the lifter stage needs a fitted prior (flow stage or flow_pretrain.init)"
            )
        self.net.train()
        self.prior.eval()
        self.prior.requires_grad_(False)
        w = self.cfg["loss"]
        rob = self.cfg["robust"]
        terms = elepose_losses(
            self.net,
            self.prior,
            poses2d,
            self.bone_ratios,
            self.use_elevation,
            nll_soft_max=None if rob["nll_soft_max"] is None else float(rob["nll_soft_max"]),
            min_reprojection_scale=float(rob["min_reprojection_scale"]),
        )
        loss = sum(float(w[k]) * terms[k] for k in ("nll", "l3d", "l2d", "ldef", "bone"))
        self.opt_lifter.zero_grad(set_to_none=True)
        loss.backward()
        clip = float(self.cfg["optim"]["grad_clip"] or 0.0)
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), clip)
        self.opt_lifter.step()
        if "elevation_mean" in terms:
            self._epoch_elev.append((float(terms["elevation_mean"]), float(terms["elevation_std"])))
        out = {k: float(v.detach()) for k, v in terms.items()}
        out["loss"] = float(loss.detach())
        return out

    def end_epoch(self, epoch: int) -> None:
        if self.stage == "flow":
            self.prior_trainer.finish()
            self.flow_epochs_done += 1
            if self.flow_epochs_done >= self.flow_epochs:
                self.stage = "lifter"
            return
        self.sched_lifter.step()
        if self._epoch_elev:
            self.elev_mu = sum(m for m, _ in self._epoch_elev) / len(self._epoch_elev)
            self.elev_sigma = sum(s for _, s in self._epoch_elev) / len(self._epoch_elev)
            self._epoch_elev = []
            self._update_views()

    def lifter(self) -> nn.Module:
        if self.cfg["scorer"]["export"]:
            return ScoredLifter(self.net, self.scorer)
        return self.net

    @torch.no_grad()
    def selection_score(self, poses2d: Tensor) -> float | None:
        """Mean plausibility NLL of the lifter's predictions on held-out 2D (no 3D used)."""
        if self.stage != "lifter" or not self.prior.fitted:
            return None
        was = self.net.training
        self.net.eval()
        self.prior.eval()
        total, n = 0.0, 0
        for chunk in poses2d.to(self.device, torch.float32).split(4096):
            out = self.net(chunk)
            nll = self.scorer(chunk, out["depth"], out.get("elevation"))
            total += float(nll.sum())
            n += chunk.shape[0]
        self.net.train(was)
        return total / max(n, 1)

    def extra_state(self) -> dict:
        return {
            "stage": self.stage,
            "flow_epochs_done": self.flow_epochs_done,
            "elev_mu": self.elev_mu,
            "elev_sigma": self.elev_sigma,
            "pca_variance_kept": self.prior.variance_kept,
        }

    def load_extra_state(self, state: dict) -> None:
        self.stage = state.get("stage", self.stage)
        self.flow_epochs_done = int(state.get("flow_epochs_done", self.flow_epochs_done))
        self.elev_mu = float(state.get("elev_mu", self.elev_mu))
        self.elev_sigma = float(state.get("elev_sigma", self.elev_sigma))
        self._update_views()
