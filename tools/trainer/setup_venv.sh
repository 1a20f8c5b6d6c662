#!/usr/bin/env bash
# Creates .build/trainer-venv (git-ignored) with what tools/trainer/*.py and
# tools/bench/train_torch.py need: numpy, a CPU build of torch, transformers
# and safetensors. Idempotent: packages already at the pinned version are kept.
#
# Usage: tools/trainer/setup_venv.sh              numpy + torch + transformers
#        tools/trainer/setup_venv.sh --numpy-only  only what reference.py needs
#        tools/trainer/setup_venv.sh --pypi-cuda-torch
#                                                  see "torch" below
#
# torch, and why it is installed this way
# ---------------------------------------
# Every torch wheel that PyPI has for Linux x86_64 is the CUDA build. Its
# dependencies (cuda-toolkit[...], nvidia-cudnn-cu13, nvidia-nccl-cu13,
# nvidia-cusparselt-cu13, nvidia-nvshmem-cu13, triton, ...) come to several GB.
# `pip install torch --no-deps` does NOT give a working CPU torch: verified with
# torch 2.15.0 (539 MB wheel), `import torch` fails with
#   ValueError: libcublasLt.so.*[0-9] not found in the system path
# and that is not just the Python-side preload: lib/libtorch_cuda.so and
# lib/libtorch_python.so carry hard DT_NEEDED entries for libcudart.so.13,
# libcublas(Lt).so.13, libcudnn.so.9, libcufft, libcusparse(Lt), libnccl,
# libnvrtc, libcufile and libtorch_nvshmem, so the dynamic loader refuses it.
# Wheels before 1.13 bundled CUDA inside the wheel, and there is none of them
# for Python 3.11. So there is no CPU-only torch among PyPI's torch files.
#
# What works: this machine kind ships a CPU-only wheel,
# /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl (192 MB),
# and the system pip configuration (/etc/pip.conf, find-links = /opt/wheels)
# already makes `pip install torch==2.13.0+cpu` resolve to it with no network.
# Its own dependencies are small pure-Python packages (filelock,
# typing-extensions, setuptools, sympy + mpmath, networkx, jinja2 + MarkupSafe,
# fsspec), which come from PyPI. That is what this script installs. The local
# version tag "+cpu" is pinned, so pip can never silently pick PyPI's CUDA
# build instead.
#
# If that wheel is absent (another machine kind), the script stops and says so.
# --pypi-cuda-torch then installs PyPI's torch==2.15.0 WITH its CUDA
# dependencies (several GB of disk; works on CPU, just big). Check `df -h`.
#
# Verified here (Python 3.11.7, 2 cores): torch 2.13.0+cpu, transformers
# 5.23.0, safetensors 0.8.0, numpy 2.4.6; tools/trainer/check_transformers.py
# passes on a model written by `reference.py random-model`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.build/trainer-venv"

TORCH_CPU_PIN="torch==2.13.0+cpu"
TORCH_PYPI_PIN="torch==2.15.0"
NUMPY_PIN="numpy==2.4.6"
TRANSFORMERS_PIN="transformers==5.23.0"
SAFETENSORS_PIN="safetensors==0.8.0"
# torch's run-time dependencies (all pure Python, small).
TORCH_DEPS=(filelock "typing-extensions>=4.10.0" "setuptools>=77.0.3" "sympy>=1.13.3"
            mpmath "networkx>=2.5.1" jinja2 MarkupSafe "fsspec>=0.8.5")

MODE=full
case "${1:-}" in
  "") ;;
  --numpy-only) MODE=numpy ;;
  --pypi-cuda-torch) MODE=cuda ;;
  *) echo "setup_venv: unknown option '$1'" >&2; exit 64 ;;
esac

if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$ROOT/.build"
  python3 -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)

"${PIP[@]}" install "$NUMPY_PIN"
if [ "$MODE" = numpy ]; then
  echo "setup_venv: numpy ready in $VENV"
  exit 0
fi

have_torch="$("$VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null || true)"
if [ "$MODE" = cuda ]; then
  if [ "$have_torch" != "${TORCH_PYPI_PIN#torch==}" ]; then
    echo "setup_venv: installing $TORCH_PYPI_PIN from PyPI with its CUDA dependencies (several GB)" >&2
    "${PIP[@]}" install "$TORCH_PYPI_PIN"
  fi
elif [ "$have_torch" != "${TORCH_CPU_PIN#torch==}" ]; then
  # The "+cpu" wheel declares only the small pure-Python dependencies.
  if ! "${PIP[@]}" install "$TORCH_CPU_PIN" "${TORCH_DEPS[@]}"; then
    cat >&2 <<EOF
setup_venv: $TORCH_CPU_PIN could not be installed (no local CPU wheel here, e.g.
/opt/wheels?). PyPI only has CUDA builds of torch for Linux, and those do not
import without their nvidia-* libraries (see the comment at the top of this
script). Re-run with --pypi-cuda-torch to install $TORCH_PYPI_PIN with its CUDA
dependencies (several GB of disk), or with --numpy-only.
EOF
    exit 1
  fi
fi

"${PIP[@]}" install "$TRANSFORMERS_PIN" "$SAFETENSORS_PIN"

"$VENV/bin/python" - <<'EOF'
import torch, transformers, numpy
a = torch.randn(2, 2) @ torch.randn(2, 2)
assert a.shape == (2, 2)
print(f"setup_venv: torch {torch.__version__} (cuda build: {torch.version.cuda}), "
      f"transformers {transformers.__version__}, numpy {numpy.__version__}: ok")
EOF
