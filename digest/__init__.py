"""digest: feeds to stories to Quick Looks to Slack or email, with a local model."""

from .runtime import quiet_openmp_waits

__version__ = "0.1.0"

# torch's OpenMP threads spin while they wait for each other. On CPUs shared with other busy
# processes a spinning thread holds the core its partner needs: Gemma's labels ran 10-15x
# slower with 2 threads than with 1 at a load of ~12 on 2 cores, and no slower than 1 thread
# once waiting is passive (bench/summarize.py --pages, BENCHMARKS.md). The policy is read when
# torch is first imported, so it is set here, before any stage imports torch; the reasoning
# and the measurement live with the CPU sizing in `runtime.quiet_openmp_waits` (runtime
# imports no torch).
quiet_openmp_waits()
