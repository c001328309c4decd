"""The samplers' switch over the amplitude laws (twin: ``draw_mark`` in kernels/forward.cuh).

Numba kernels cannot hold Python objects, so a law reaches them as ``(code, param)``
(:meth:`levyscore.amplitudes.AmplitudeLaw.kernel_args`) and :func:`draw_mark` branches on the
code. One branch per law: adding a law adds one branch here and one in the CUDA twin.
"""
import numba as nb

from .gaussian import gaussian_mark
from .laplace import laplace_mark
from .student_t import student_t_mark

__all__ = ["draw_mark", "LAW_LAPLACE", "LAW_GAUSSIAN", "LAW_STUDENT_T"]

LAW_LAPLACE = 0
LAW_GAUSSIAN = 1
LAW_STUDENT_T = 2


@nb.njit(cache=True)
def draw_mark(law, param, u_mark, c0, c1, cm, j, k0, k1, spare):
    """``(M / sigma_A^2, spare)`` of jump j (unit mean mark) for the law with code ``law``.

    Parameters
    ----------
    law : int
        ``LAW_LAPLACE``, ``LAW_GAUSSIAN`` or ``LAW_STUDENT_T``.
    param : float
        The law's parameter (nu for Student-t).
    u_mark : float
        The jump's own uniform (second uniform of its jump-stream block).
    c0, c1, cm, k0, k1 : uint64
        Sample index words, the mark stream word and the key (Student-t's Gamma draw).
    j : int
        Index of the jump within the sample's interval (jumps are drawn in order 0, 1, ...).
    spare : float
        State carried from jump j - 1 to jump j (Student-t: a spare normal); the caller
        starts it at 0 and passes back what the previous call returned.
    """
    if law == LAW_LAPLACE:
        return laplace_mark(u_mark), spare
    if law == LAW_GAUSSIAN:
        return gaussian_mark(), spare
    return student_t_mark(param, u_mark, c0, c1, cm, j, k0, k1, spare)
