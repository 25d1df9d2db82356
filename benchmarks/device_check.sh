#!/usr/bin/env bash
# The GPU check in one command, on a machine where torch with CUDA is already installed
# (nothing is downloaded). From the checkout:
#     PYTHONPATH=. bash benchmarks/device_check.sh
# Runs the CUDA tests, then benchmarks/device_check.py (game and training throughput on
# cuda, P = 11 alphas at N = 1000, the stacked model's pass, the paper preset's estimated
# time) and prints one table at the end. About 5 minutes on an H100/H200.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="${PYTHONPATH:-.}:benchmarks"
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')" \
    || exit 1
echo "== CUDA tests"
timeout 240 python -m pytest -q -p no:cacheprovider -p no:nbval -o addopts="" \
    tests/test_game_basics.py tests/test_policy.py tests/test_stacked_kernels.py \
    tests/test_stacked_policy.py tests/test_measures.py -k "cuda or device" 2>&1 | tail -5
echo "== benchmarks"
timeout 300 python benchmarks/device_check.py
