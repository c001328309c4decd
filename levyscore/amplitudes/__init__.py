r"""Jump amplitude laws as objects (MATH.md section 11).

Every amplitude law of levyscore is an isotropic Gaussian scale mixture
:math:`A = \sqrt{M}\,\xi`, :math:`\xi \sim N(0, I_D)`, described by its mixing variable
:math:`M \ge 0` with mean :math:`E M = \sigma_A^2` (the per-component variance of A, the
process's ``jump_var``). Given the jumps, the forward increment is Gaussian with variance
``s + W`` per component, ``W = sum_i M_i exp(-2 theta a_i)``, so the law enters every
computation only through M:

========================  =====================================  ============================
law                       M                                      :math:`L_M(u) = E e^{-uM}`
========================  =====================================  ============================
:class:`Laplace`          :math:`\sigma_A^2\,\mathrm{Exp}(1)`    :math:`1/(1 + \sigma_A^2 u)`
:class:`Gaussian`         :math:`\sigma_A^2` (a constant)        :math:`e^{-\sigma_A^2 u}`
:class:`StudentT` (nu>2)  :math:`\beta/\mathrm{Gamma}(\nu/2)`,     :math:`2(\beta u)^{\nu/4}K_{\nu/2}(2\sqrt{\beta u})/\Gamma(\nu/2)`
                          :math:`\beta = \sigma_A^2(\nu-2)/2`
========================  =====================================  ============================

Pass a law, or its name, to :class:`levyscore.JumpDiffusion` (``amplitude="laplace"``, the
default, ``"gaussian"``, ``"student-t"`` (nu = 5) or ``StudentT(3)``).

Adding a law: write one module here with a subclass of :class:`AmplitudeLaw` (its
:meth:`~AmplitudeLaw.laplace_m`, and a Numba scalar that draws ``M / sigma_A^2``), add its
branch to :func:`levyscore.amplitudes._dispatch.draw_mark` and to the CUDA twin
``draw_mark`` in ``kernels/forward.cuh``, and one line to ``REGISTRY`` below.
"""
from ._base import AmplitudeLaw
from .gaussian import Gaussian
from .laplace import Laplace
from .student_t import StudentT

__all__ = ["AmplitudeLaw", "Laplace", "Gaussian", "StudentT", "as_amplitude", "REGISTRY"]

#: Name -> factory of the default law of that name (the registry: one line per law).
REGISTRY = {
    "laplace": Laplace,
    "gaussian": Gaussian,
    "student-t": StudentT,
}


def as_amplitude(amplitude, name="amplitude"):
    """The :class:`AmplitudeLaw` named or given by ``amplitude``.

    Parameters
    ----------
    amplitude : str or AmplitudeLaw
        A law object, or one of the names in :data:`REGISTRY` (case-insensitive;
        ``"student-t"`` gives ``StudentT(5)``, also spelled ``"student_t"`` or ``"t"``).
    name : str
        Argument name used in error messages.

    Raises
    ------
    ValueError
        For an unknown name or a value that is neither a string nor a law.
    """
    if isinstance(amplitude, AmplitudeLaw):
        return amplitude
    if isinstance(amplitude, str):
        key = amplitude.strip().lower().replace("_", "-")
        if key in ("t", "studentt"):
            key = "student-t"
        if key in REGISTRY:
            return REGISTRY[key]()
        raise ValueError(f"{name} must be one of {sorted(REGISTRY)} or an AmplitudeLaw, got "
                         f"{amplitude!r}")
    raise ValueError(f"{name} must be a name ({sorted(REGISTRY)}) or an AmplitudeLaw, got "
                     f"{type(amplitude).__name__}")
