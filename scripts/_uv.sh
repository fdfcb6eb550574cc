# Sourced by the scripts: makes sure `uv` is on PATH (installs it with pip when missing).
if ! command -v uv >/dev/null 2>&1; then
  export PATH="$HOME/.local/bin:$PATH"
  if ! command -v uv >/dev/null 2>&1; then
    echo "installing uv (Python package manager) with pip…" >&2
    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  fi
fi
export UV_PYTHON="${UV_PYTHON:-python3}"
