"""OpenMM platforms: CPU by default (threads as asked), CUDA or OpenCL for ``--gpu``."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterator

from foldkit.errors import FoldkitError

GPU_PLATFORMS = ("CUDA", "OpenCL")


@dataclasses.dataclass(frozen=True)
class PlatformChoice:
    """An OpenMM platform and the context properties it runs with."""

    platform: object                  # openmm.Platform
    properties: dict[str, str]

    @property
    def name(self) -> str:
        return self.platform.getName()

    @property
    def threads(self) -> int | None:
        value = self.properties.get("Threads")
        return int(value) if value else None

    @contextlib.contextmanager
    def as_default(self) -> Iterator[None]:
        """Let contexts that pdbfixer and OpenMM's Modeller create (no properties given) use our threads too."""
        if self.name != "CPU" or "Threads" not in self.properties:
            yield
            return
        previous = self.platform.getPropertyDefaultValue("Threads")
        self.platform.setPropertyDefaultValue("Threads", self.properties["Threads"])
        try:
            yield
        finally:
            self.platform.setPropertyDefaultValue("Threads", previous)


def available_platforms() -> list[str]:
    import openmm

    return [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]


def choose_platform(use_gpu: bool = False, cpu_threads: int | None = None) -> PlatformChoice:
    """CPU (``cpu_threads`` threads, None = OpenMM's default), or the first GPU platform present."""
    import openmm

    if use_gpu:
        present = available_platforms()
        problems = []
        for name in GPU_PLATFORMS:
            if name in present:
                platform = openmm.Platform.getPlatformByName(name)
                problem = _probe(platform)
                if problem is None:
                    return PlatformChoice(platform, {})
                problems.append(f"{name}: {problem}")
        raise FoldkitError("--gpu: no usable CUDA or OpenCL platform in OpenMM ("
                           + ("; ".join(problems) if problems else f"platforms here: {', '.join(present)}")
                           + "); install OpenMM's GPU build (pip install 'openmm[cuda12]') or run on the CPU")
    properties = {"Threads": str(cpu_threads)} if cpu_threads else {}
    return PlatformChoice(openmm.Platform.getPlatformByName("CPU"), properties)


def _probe(platform) -> str | None:
    """None if a context opens on ``platform`` (a GPU is there), else the reason."""
    import openmm

    system = openmm.System()
    system.addParticle(1.0)
    try:
        context = openmm.Context(system, openmm.VerletIntegrator(0.001), platform)
        del context
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None
