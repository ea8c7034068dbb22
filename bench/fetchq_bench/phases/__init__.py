"""fetchq's phases, one module each. Each one can run on its own, e.g.
`python -m fetchq_bench.phases.submit` from bench/ or `bench/run.sh --phase submit`, and prints its
figures; fetchq_bench.runner runs them all in the order of a full run."""
