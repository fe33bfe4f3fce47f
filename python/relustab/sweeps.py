# SPDX-License-Identifier: MIT
"""`sweep`: run an experiment file into a results directory (``relustab sweep``), from Python."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Union

from ._core_loader import core

__all__ = ["sweep"]


def _override_text(key: str, value: Any) -> str:
    """One ``--set key=value``: booleans as true/false, floats in their shortest round-trip form."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    return f"{key}={text}"


def _overrides(settings: Union[None, Mapping[str, Any], Sequence[str]]) -> list:
    if settings is None:
        return []
    if isinstance(settings, Mapping):
        return [_override_text(str(k), v) for k, v in settings.items()]
    if isinstance(settings, str):
        raise ValueError("set: expected a mapping {key: value} or a list of 'key=value' strings, got a str")
    return [str(s) for s in settings]


def _progress_bar(enabled: Optional[bool]):
    if enabled is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(unit="run", leave=False)


def sweep(experiment: Union[str, os.PathLike], out: Union[None, str, os.PathLike] = None, *,
          set: Union[None, Mapping[str, Any], Sequence[str]] = None, jobs: Optional[int] = None,
          shard: Optional[str] = None, progress: Optional[bool] = None,
          callback: Optional[Callable[[Dict[str, Any]], Any]] = None, load: bool = True):
    """Runs every run of an experiment file (TOML) into a results directory: ``relustab sweep``.

    The same library calls as the command line, so the directory is the one ``relustab sweep``
    would write, and the two can continue each other's sweeps. Resumable: runs finished by an
    earlier sweep of the directory are kept, and an experiment whose axes gained values adds the new
    runs. Ctrl-C stops the sweep (KeyboardInterrupt); the runs it was executing are redone by the
    next sweep of the directory.

    Arguments:
      experiment: the experiment file.
      out: the results directory; default runs/NAME under the working directory (NAME the file's
        name without extension), as on the command line.
      set: parameter overrides (``--set``): a mapping ``{"optim.eta": 0.1}`` or ``["optim.eta=0.1"]``;
        an override of a swept key removes that axis.
      jobs: worker threads (default: every CPU); each run is single-threaded, and the results do not
        depend on the number of threads.
      shard: ``"i/N"`` runs only the runs whose id - 1 is i modulo N, into OUT/shard-i-of-N.
      progress: a tqdm progress bar over the runs (default: where tqdm is installed).
      callback: called with a dict (total, done, failed, running, elapsed_s, eta_s) about twice a
        second; an exception it raises stops the sweep and propagates.
      load: return the results as `load_results` reads them (needs pandas); with False, a dict of
        the final counts, the experiment's name and the directory.

    Returns the `Results` of the directory (``.runs``: one row per run, ``.logs``: the training logs
    in long form), or with ``load=False`` the counts. Bad input (a malformed file, an unknown key, a
    directory of a different experiment) raises ValueError with the command line's message.
    """
    if jobs is None:
        jobs = os.cpu_count() or 1
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs: expected an integer >= 1, got {jobs!r}")
    bar = _progress_bar(progress)

    def on_progress(state: Dict[str, Any]) -> None:
        if bar is not None:
            bar.total = state["total"]
            bar.n = state["done"] + state["failed"]
            bar.set_postfix(failed=state["failed"], refresh=False)
            bar.refresh()
        if callback is not None:
            callback(state)

    try:
        final = core.sweep(os.fspath(experiment), _overrides(set),
                           "" if out is None else os.fspath(out), jobs, shard,
                           on_progress if (bar is not None or callback is not None) else None)
    finally:
        if bar is not None:
            bar.close()
    if not load:
        return final
    from .results import load_results

    return load_results(final["dir"])
