"""The common interface of every scaling law: predicted loss and compute-optimal allocation.

A law is a small frozen object. Its methods take sizes in plain units (parameters, tokens, FLOPs) and return
:class:`Allocation` results, never bare tuples. ``param_convention`` says which N the law was fitted on:
``"total"`` (Chinchilla, counting embeddings) or ``"non-embedding"`` (Kaplan). Convert with
:func:`tokenplan.flops.convert_params` before mixing laws (Pearce & Song 2024).
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tokenplan import _checks
from tokenplan._record import record
from tokenplan._solve import bisect
from tokenplan.errors import InvalidInputError
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN, conversion_floor

if TYPE_CHECKING:
    from tokenplan.laws.intervals import PublishedInterval
    from tokenplan.laws.prediction import AllocationInterval, Prediction, Uncertainty

__all__ = ["NOT_SAVED", "Allocation", "FittedRange", "Law", "check_constants"]

# Law fields that belong to the shipped object, never to a saved law file.
NOT_SAVED = ("preset_of", "published_intervals")

# Tokens standing for "unlimited data" in tokens_for_loss.
_D_MAX = 1e30


@dataclass(frozen=True)
class Allocation:
    """A model size and token count for a compute budget, as one law sees it."""

    law: str
    flops: float
    n_params: float
    n_tokens: float
    loss: float | None = None
    param_convention: str = "total"

    @property
    def tokens_per_param(self) -> float:
        """D / N; about 20 for Chinchilla's Approach 1."""
        return self.n_tokens / self.n_params

    def to_dict(self) -> dict[str, Any]:
        out = record(self, "law n_params n_tokens flops tokens_per_param loss param_convention")
        # law.optimal(np.array([...])) gives arrays: lists, so that json.dumps takes the dict
        return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in out.items()}

    def __repr__(self) -> str:
        from tokenplan.units import format_quantity as fq

        def each(value: Any, fmt: Any) -> str:  # a number, or an array from law.optimal(array)
            if value is None:
                return "None"
            if np.ndim(value) == 0:
                return fmt(value)
            return "[" + ", ".join(fmt(v) for v in np.ravel(value)) + "]"

        return (
            f"Allocation(law={self.law!r}, n_params={each(self.n_params, fq)}, "
            f"n_tokens={each(self.n_tokens, fq)}, flops={each(self.flops, lambda v: f'{v:.3g}')}, "
            f"tokens_per_param={each(self.tokens_per_param, fq)}, "
            f"loss={each(self.loss, lambda v: f'{v:.4f}')})"
        )


@dataclass(frozen=True)
class FittedRange:
    """The region of (N, D) a law was fitted on: predictions outside it are extrapolations.

    Each field is a ``(low, high)`` pair taken from the law's own fitted data (for presets, the paper's
    runs; for a law from ``tokenplan fit``, the user's runs). ``source`` says where the numbers come from.
    """

    flops: tuple[float, float]
    n_params: tuple[float, float]
    n_tokens: tuple[float, float]
    tokens_per_param: tuple[float, float]
    source: str = ""
    #: The unique tokens the runs repeated (a data-constrained law's fit); None: not a range of the law.
    unique_tokens: tuple[float, float] | None = None

    def extrapolation(
        self, n_params: float, n_tokens: float, unique_tokens: float | None = None
    ) -> dict[str, float]:
        """How far (N, D) lies outside the range, per axis, as a factor >= 1 (1.0 = inside).

        Keys: ``flops``, ``n_params``, ``n_tokens``, ``tokens_per_param``, and ``unique_tokens`` (the
        U_D = min(U, D) a run repeats) when both the point and the range have them; e.g. ``{"flops": 10.0, ...}`` means ten times above the largest
        fitted budget (or ten times below the smallest). A point that is not a number (the NaN allocation
        of a law without an optimum) lies nowhere: ``{}``, as for an unknown range, not 1.0 on every axis,
        which ``max(1.0, nan, nan)`` would give.
        """
        if math.isnan(n_params) or math.isnan(n_tokens):
            return {}
        point = {
            "flops": FLOPS_PER_PARAM_TOKEN * n_params * n_tokens,
            "n_params": n_params,
            "n_tokens": n_tokens,
            "tokens_per_param": n_tokens / n_params,
        }
        if self.unique_tokens is not None and unique_tokens is not None:
            if math.isfinite(
                unique_tokens
            ):  # U_D = min(U, D): unique tokens past D are never seen (eq. 5)
                point["unique_tokens"] = min(unique_tokens, n_tokens)
        out = {}
        for axis, x in point.items():
            lo, hi = getattr(self, axis)
            # 6ND of sizes near 1e-300 underflows to 0: infinitely far below, not a ZeroDivisionError
            out[axis] = max(1.0, lo / x if x > 0 else math.inf, x / hi)
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "flops": list(self.flops),
            "n_params": list(self.n_params),
            "n_tokens": list(self.n_tokens),
            "tokens_per_param": list(self.tokens_per_param),
            "source": self.source,
        }
        if self.unique_tokens is not None:
            out["unique_tokens"] = list(self.unique_tokens)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FittedRange:
        """Read :meth:`to_dict` output; each axis must be a ``[low, high]`` pair, 0 < low <= high < inf."""
        spans = {}
        optional = ("unique_tokens",) if d.get("unique_tokens") is not None else ()
        for axis in ("flops", "n_params", "n_tokens", "tokens_per_param", *optional):
            try:
                pair = tuple(float(x) for x in d[axis])
            except (TypeError, ValueError):  # "big", 5, ["a", 2]: not a pair of numbers
                pair = ()
            if (
                len(pair) != 2
                or not all(math.isfinite(x) and x > 0 for x in pair)
                or pair[0] > pair[1]
            ):
                raise ValueError(
                    f"{axis} must be [low, high] with 0 < low <= high, got {d[axis]!r}"
                )
            spans[axis] = pair
        return cls(**spans, source=str(d.get("source", "")))

    @classmethod
    def of_runs(cls, n_params, n_tokens, *, source: str = "") -> FittedRange:
        """The range spanned by arrays of run sizes."""
        n = np.asarray(n_params, dtype=float)
        d = np.asarray(n_tokens, dtype=float)
        c = FLOPS_PER_PARAM_TOKEN * n * d
        r = d / n

        def span(x):
            return (float(x.min()), float(x.max()))

        return cls(span(c), span(n), span(d), span(r), source)


@dataclass(frozen=True, kw_only=True)
class Law:
    """Base class. Subclasses implement :meth:`loss` (if they predict one) and :meth:`optimal`."""

    name: str = "law"
    citation: str = ""
    param_convention: str = "total"
    # The range of training compute (FLOPs) the law was fitted on; plans outside it get a warning.
    # (These three and the tables below stay out of the repr, which names the law and its constants:
    # with them list_laws()'s reprs ran to 700-1,900 characters each.)
    fitted_flops: tuple[float, float] | None = field(default=None, compare=False, repr=False)
    # The full (C, N, D, D/N) region of the law's fitted data; ``predict`` reports extrapolation from it.
    fitted_range: FittedRange | None = field(default=None, compare=False, repr=False)
    description: str = field(default="", compare=False, repr=False)
    # Parameter draws and backtest errors behind ``predict``'s interval (laws from ``tokenplan fit``).
    uncertainty: Uncertainty | None = field(default=None, compare=False, repr=False)
    # Set on the shipped presets by :meth:`as_preset` (laws.presets): the constants as published and what
    # the paper publishes about them. A copy with other constants keeps the stamp but no longer matches it,
    # so it is not taken for the preset (no borrowed interval). Not saved with the law.
    preset_of: tuple | None = field(default=None, compare=False, repr=False)
    published_intervals: tuple[PublishedInterval, ...] = field(
        default=(), compare=False, repr=False
    )

    # --- to be provided by subclasses -------------------------------------------------------------
    # True for a law that defines :meth:`loss` (set for every subclass in ``__init_subclass__``).
    has_loss: ClassVar[bool] = False
    # Exponents a fit may return at any sign (a parametric fit's alpha <= 0 comes with a warning that the
    # runs do not pin that term down): a law built in Python checks them finite only, a law file > 0.
    any_sign: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.has_loss = cls.loss is not Law.loss

    def __post_init__(self) -> None:
        check_constants(f"{type(self).__name__} {self.name!r}", type(self), self.__dict__)

    def loss(self, n_params: float, n_tokens: float) -> float:
        raise InvalidInputError(
            f"law {self.name!r} predicts an allocation only, not a loss; use a parametric law such as "
            "'epoch2024' or 'chinchilla' for loss predictions.",
            param="law",
        )

    def optimal(self, flops: float) -> Allocation:
        raise NotImplementedError

    @property
    def has_optimum(self) -> bool:
        """Whether the law has a compute-optimal allocation; a fitted Chinchilla law with alpha or beta <= 0
        has none (its :meth:`optimal` gives NaN, and the inverses raise naming the reason)."""
        return True

    @property
    def no_optimum_reason(self) -> str:
        return ""

    def require_optimum(self, param: str) -> None:
        """Refuse an inverse of the optimum (a size, token count or loss -> its budget) without an optimum."""
        if not self.has_optimum:
            raise InvalidInputError(
                f"law {self.name!r} has no compute-optimal allocation: {self.no_optimum_reason}; refit on "
                "runs that vary the model size and the tokens at each budget, or use a preset "
                "(`tokenplan laws`).",
                param=param,
            )

    @property
    def exponents(self) -> tuple[float, float]:
        """(a, b) with N_opt ∝ C^a and D_opt ∝ C^b."""
        raise NotImplementedError

    # --- derived, shared by all laws -------------------------------------------------------------
    def optimal_tokens(self, n_params: float) -> Allocation:
        """The compute-optimal token count for a model of ``n_params`` (inverting N_opt(C))."""
        n = _checks.positive("n_params", n_params)
        self.require_optimum("law")
        flops = self._flops_for(lambda c: self.optimal(c).n_params, n, name="n_params")
        return self._allocation(flops, n, flops / (FLOPS_PER_PARAM_TOKEN * n))

    def optimal_params(self, n_tokens: float) -> Allocation:
        """The compute-optimal model size for ``n_tokens`` of training data (inverting D_opt(C))."""
        d = _checks.positive("n_tokens", n_tokens)
        self.require_optimum("law")
        flops = self._flops_for(lambda c: self.optimal(c).n_tokens, d, name="n_tokens")
        return self._allocation(flops, flops / (FLOPS_PER_PARAM_TOKEN * d), d)

    def optimal_for_loss(self, loss: float) -> Allocation:
        """The cheapest compute-optimal (N, D) whose predicted loss equals ``loss``."""
        target = _checks.positive("target_loss", loss)
        if not self.has_loss:
            self.loss(1.0, 1.0)  # raises the law's own explanation
        self.require_optimum("law")
        floor = self.irreducible_loss
        if target <= floor:
            raise InvalidInputError(
                f"target_loss={loss!r} is at or below the irreducible loss E={floor:.4f} of law "
                f"{self.name!r}; no finite model reaches it.",
                param="target_loss",
            )
        self._refuse_beyond_budgets(target, floor)
        alloc = self.optimal(self._flops_for_loss(target))
        if self.param_convention == "non-embedding":
            self._refuse_below_one_layer(target, alloc.n_params)
        return alloc

    def _flops_for_loss(self, target: float) -> float:
        """The budget whose compute-optimal loss is ``target`` (the loss falls as the budget grows)."""
        return self._flops_for(
            lambda c: self.optimal(c).loss, target, name="target_loss", decreasing=True
        )

    def _refuse_beyond_budgets(self, target: float, floor: float) -> None:
        """A target the optimum reaches only beyond :data:`~tokenplan.units.MAX_QUANTITY` FLOPs, the
        largest budget tokenplan takes, is refused like such a budget: a hair above E (``--target-loss
        1.8171`` under epoch2024, E = 1.817) the plan was 4.9e41 FLOPs, a model of 1.1e20 parameters and
        a run of 1.75 billion years, far past every run made (~5e26 FLOPs) and the law's fitted data. The
        message names the gap to E, the compute needed and the lowest target that can be planned."""
        from tokenplan.units import MAX_QUANTITY

        try:
            lowest = float(self.optimal(MAX_QUANTITY).loss)
        except (ArithmeticError, ValueError, InvalidInputError):
            return  # a degenerate law: the bisection below says what it can reach
        if not target < lowest:
            return
        try:
            needed = f"{self._flops_for_loss(target):.2g}"
        except InvalidInputError:
            needed = "more than 1e+60"
        plannable = (
            math.ceil(lowest * 1e4) / 1e4
        )  # rounded up, so the bound quoted is itself plannable
        raise InvalidInputError(
            f"target_loss={target:g} is {target - floor:.2g} above the irreducible loss E={floor:.4f} "
            f"of law {self.name!r}: its compute-optimal plan needs {needed} training FLOPs, more than "
            f"the {MAX_QUANTITY:.0e} tokenplan plans and far beyond any run made so far (~5e26) or the "
            f"data the law was fitted on, where it is untested; give a target_loss of at least "
            f"{plannable:.4f} (the optimum at {MAX_QUANTITY:.0e} FLOPs).",
            param="target_loss",
        )

    def _refuse_below_one_layer(self, target: float, n_params: float) -> None:
        """A non-embedding law's optimum below one layer (:func:`tokenplan.flops.conversion_floor`) and below
        every model the law was fitted on is not a model (Kaplan's frontier gives 4.87e-04 parameters for a
        loss of 20), so the target is refused, as ``plan --params`` refuses such a size for this law. Above
        the smallest fitted model (Kaplan trained models from 768 non-embedding parameters; a fit on a
        sweep's tiny models has its own), or under a law counting all parameters, the allocation is
        returned and ``plan`` flags a model below one layer."""
        from tokenplan.units import format_quantity as fq

        layer = conversion_floor()[0]
        fitted = None if self.fitted_range is None else self.fitted_range.n_params[0]
        smallest = layer if fitted is None else min(layer, fitted)
        if n_params >= smallest:
            return
        flops = self._flops_for(lambda c: self.optimal(c).n_params, smallest, name="n_params")
        # rounded down, so that the bound quoted is itself reachable
        easiest = math.floor(float(self.optimal(flops).loss) * 1e3) / 1e3
        seen = (
            ""
            if fitted is None
            else f" and below the smallest model it was fitted on ({fq(fitted)})"
        )
        raise InvalidInputError(
            f"target_loss={target:g} needs a compute-optimal model of {n_params:.3g} non-embedding "
            f"parameters under law {self.name!r}, below one layer ({fq(layer)}, "
            f"tokenplan.flops.conversion_floor){seen}; give a target_loss of at most {easiest:g}.",
            param="target_loss",
        )

    @property
    def irreducible_loss(self) -> float:
        return 0.0

    def tokens_for_loss(self, n_params: float, loss: float) -> float:
        """D with L(n_params, D) = loss; ``inf`` when no amount of data gets a model this size there.

        Bisection in log D (L falls monotonically in D); the Chinchilla form overrides it in closed form.
        """
        if not self.has_loss:
            self.loss(1.0, 1.0)  # raises the law's own explanation
        if float(self.loss(n_params, _D_MAX)) >= loss:
            return math.inf
        if float(self.loss(n_params, 1.0)) <= loss:
            return 1.0
        log_d = bisect(
            lambda x: -float(self.loss(n_params, math.exp(x))), -loss, 0.0, math.log(_D_MAX)
        )
        return math.exp(log_d)

    def allocation(self, n_params: float, n_tokens: float) -> Allocation:
        """A run of your own, ``n_params`` (in the law's convention) on ``n_tokens``, as this law sees it:
        its 6ND training FLOPs and, for a law with one, its predicted loss. Not an optimum: compare it with
        :meth:`optimal` at the same FLOPs, or :meth:`optimal_for_loss` at its loss. A pair whose 6ND
        leaves float64 (1e-300 on 1e-300: 0 FLOPs) is refused naming the size at fault, as predict does."""
        from tokenplan.laws.prediction import training_flops

        n = _checks.positive("n_params", n_params)
        d = _checks.positive("n_tokens", n_tokens)
        return self._allocation(training_flops(n, d), n, d)

    def _allocation(self, flops: float, n_params: float, n_tokens: float) -> Allocation:
        loss = self.loss(n_params, n_tokens) if self.has_loss else None
        return Allocation(self.name, flops, n_params, n_tokens, loss, self.param_convention)

    def _flops_for(self, quantity, target: float, *, name: str, decreasing: bool = False) -> float:
        """Solve quantity(C) = target for C by bisection in log C (quantity increasing in C, or falling
        with ``decreasing``, as the optimum's loss does); ``name`` is the argument ``target`` came from."""
        lo, hi = 1.0, 1e60
        sign = -1.0 if decreasing else 1.0  # the bisection wants an increasing quantity

        def rising(log_c: float) -> float:
            return sign * quantity(math.exp(log_c))

        log_lo, log_hi = math.log(lo), math.log(hi)
        if not rising(log_lo) <= sign * target <= rising(log_hi):
            raise InvalidInputError(
                f"{name}={target:g} is outside what law {self.name!r} can reach (its compute-optimal "
                f"frontier from {lo:g} to {hi:g} training FLOPs).",
                param=name,
            )
        return math.exp(bisect(rising, sign * target, log_lo, log_hi))

    # --- predictions with intervals (tokenplan.laws.prediction) ------------------------------------
    def predict(
        self,
        n_params: float,
        n_tokens: float,
        *,
        unique_tokens: float | None = None,
        interval: float = 0.8,
    ) -> Prediction:
        """The predicted loss of ``n_params`` trained on ``n_tokens`` (from ``unique_tokens`` unique ones: a
        law that models repetition takes them itself, another is taken at the effective tokens D' of
        Muennighoff et al. 2023, eq. 5, as ``plan`` and ``repeat`` take it), with FLOPs, D/N, epochs,
        effective tokens, the extrapolation factor per axis of the fitted range, and an interval at level
        ``interval`` (0.8 = 10th..90th percentile) whose kind is ``prediction.interval_kind``
        ("bootstrap", "backtest-calibrated", "published" or "none")."""
        from tokenplan.laws.prediction import predict

        return predict(self, n_params, n_tokens, unique_tokens=unique_tokens, interval=interval)

    def optimal_interval(
        self, flops: float, *, interval: float = 0.8, unique_tokens: float | None = None
    ) -> AllocationInterval:
        """Intervals on the compute-optimal N and D at ``flops`` from the law's bootstrap draws (kind
        "none" when the law has none). With ``unique_tokens``, a data-constrained law's intervals are on
        its data-constrained optimum (Muennighoff et al. 2023 sec. 5); other laws ignore it."""
        from tokenplan.laws.prediction import allocation_interval

        return allocation_interval(self, flops, interval=interval, unique_tokens=unique_tokens)

    # --- presets ---------------------------------------------------------------------------------
    def as_preset(self, published: tuple[PublishedInterval, ...] = ()) -> Law:
        """This law stamped as a shipped preset (with the intervals its paper publishes)."""
        from dataclasses import replace

        return replace(self, preset_of=self._identity(), published_intervals=tuple(published))

    @property
    def is_preset(self) -> bool:
        """True for a shipped preset whose constants are unchanged (what ``==`` compares is the same)."""
        return self.preset_of is not None and self.preset_of == self._identity()

    def _identity(self) -> tuple:
        from dataclasses import fields

        return (
            type(self).__name__,
            *((f.name, getattr(self, f.name)) for f in fields(self) if f.compare),
        )

    # --- serialisation (a fitted law saved by `tokenplan fit`, loaded by `plan --law file.json`) ----
    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        out = asdict(self)
        for key in NOT_SAVED:
            out.pop(key, None)
        out["kind"] = type(self).__name__
        if out.get("fitted_flops") is not None:
            out["fitted_flops"] = list(out["fitted_flops"])
        out["fitted_range"] = None if self.fitted_range is None else self.fitted_range.to_dict()
        if self.uncertainty is None:
            out.pop("uncertainty", None)  # keeps preset JSON as it was
        else:
            out["uncertainty"] = self.uncertainty.to_dict()
        return out


@functools.cache
def _constant_rules(cls: type, strict: bool) -> tuple[tuple[str, bool, str], ...]:
    """(field, is a pair, bound) for each of a law class's own constants (its fields beyond
    :class:`Law`'s): cached, as fits build thousands of laws."""
    free = () if strict else cls.any_sign
    return tuple(
        (
            key,
            "tuple" in str(f.type),  # e.g. Kaplan's (coefficient, exponent)
            "" if key in free else ">= 0" if key == "E" else "> 0",
        )
        for key, f in cls.__dataclass_fields__.items()
        if key not in Law.__dataclass_fields__
    )


def check_constants(where: str, cls: type, values: dict[str, Any], *, strict: bool = False) -> None:
    """The one check of a law's constants, for a law built in Python (``Law.__post_init__``) and a law
    file (``load_law``, ``strict``): each is a finite real number (or an array of them: ``Uncertainty``
    evaluates every bootstrap draw at once), E >= 0 (the irreducible loss), every other > 0, a pair such as
    Kaplan's Table 6 ``(coefficient, exponent)`` element by element. The class's ``any_sign`` exponents
    (fits return them at any sign) are checked finite only unless ``strict``. Constants absent from
    ``values`` are skipped (the constructor reports them, all at once). ``where`` starts the message."""
    for key, pair, bound in _constant_rules(cls, strict):
        if key not in values:
            continue
        value = values[key]
        if isinstance(value, tuple) != pair or (pair and len(value) != 2):
            shape = "a (coefficient, exponent) pair" if pair else "one finite number"
            raise InvalidInputError(f"{where} has {key}={value!r}; it must be {shape}.", param=key)
        for x in value if pair else (value,):
            if type(x) in (float, int, np.float64) and _float_ok(x, bound):
                continue  # the common case, without numpy: fits build thousands of laws
            bad = _bad_elements(x, bound)
            if bad is None or bad.any():
                whole = pair or bad is None or np.ndim(x) == 0
                shown = repr(value) if whole else _first_bad(x, bad)
                need = f"{'two finite numbers' if pair else 'a finite number'} {bound}".rstrip()
                raise InvalidInputError(f"{where} has {key}={shown}; it must be {need}.", param=key)


def _float_ok(x: float, bound: str) -> bool:
    """A plain number is finite and within ``bound``."""
    return math.isfinite(x) and (not bound or x > 0 or (x == 0 and bound == ">= 0"))


def _bad_elements(x: Any, bound: str) -> np.ndarray | None:
    """Which elements of ``x`` (a number or an array of them) are not finite or break ``bound`` ("",
    ">= 0" or "> 0"); ``None`` when ``x`` is not numbers at all (text, a boolean, a list)."""
    if isinstance(x, bool | np.bool_) or not isinstance(x, numbers.Real | np.ndarray):
        return None
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        return None
    ok = np.isfinite(arr)
    if bound:
        ok &= (arr >= 0) if bound == ">= 0" else (arr > 0)
    return ~ok


def _first_bad(x: np.ndarray, bad: np.ndarray) -> str:
    """An array of draws quoted by its first bad element."""
    i = int(np.flatnonzero(bad.ravel())[0])
    return f"an array whose element {i} is {float(x.ravel()[i])!r}"


def as_sizes(n_params: Any, n_tokens: Any) -> tuple[np.ndarray | float, np.ndarray | float]:
    """(N, D) checked by :func:`as_array`: the arguments of every ``loss(n_params, n_tokens)``."""
    N, D = as_array("n_params", n_params), as_array("n_tokens", n_tokens)
    pairable(n_params=N, n_tokens=D)
    return N, D


def pairable(**sizes: Any) -> None:
    """Arrays given together must pair up (numpy broadcasting: one shape, or a scalar, or a grid): 2 model
    sizes and 3 token counts failed with numpy's 'operands could not be broadcast together'."""
    shapes = {name: np.shape(v) for name, v in sizes.items()}
    try:
        np.broadcast_shapes(*shapes.values())
    except ValueError:
        shown = ", ".join(f"{name} of shape {shape}" for name, shape in shapes.items())
        raise InvalidInputError(
            f"the sizes do not pair up ({shown}): give one value per model to each, or one value "
            "for all.",
            param=list(shapes)[-1],
        ) from None


def as_array(name: str, value: Any) -> np.ndarray | float:
    """Validate a scalar or array of sizes: all finite and > 0. Returns a float for scalars."""
    if np.ndim(value) == 0:
        return _checks.positive(name, value)
    _checks.no_booleans(name, value)
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        idx = np.flatnonzero(bad.ravel())[:5].tolist()
        raise InvalidInputError(
            f"{name} must be finite and > 0; bad values at positions {idx}: "
            f"{arr.ravel()[idx].tolist()}."
        )
    return arr
