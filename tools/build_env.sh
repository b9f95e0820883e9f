#!/usr/bin/env bash
# Build the project's virtual environment (.venv) with the pinned OpenMMLab stack.
#
#   bash tools/build_env.sh            # what `make env` runs
#
# Idempotent: when .venv holds a finished build of the current requirements/pins.txt and this script, it says so
# and exits in well under a second.  A cold build compiles mmcv's C++ ops (about 10 minutes on 2 cores); pip keeps
# the built wheel in its cache, so a rebuild on the same machine skips the compile.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FAMIPOSE_VENV:-$ROOT/.venv}"
PINS="$ROOT/requirements/pins.txt"
STAMP="$VENV/.famipose-env"
PYTHON="${PYTHON:-python3}"

want_stamp="$(cat "$PINS" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]]; then
    echo "[env] $VENV is up to date with requirements/pins.txt"
    exit 0
fi

pin() {  # pin NAME -> the version pinned in requirements/pins.txt
    local v
    v="$(sed -n "s/^$1==\([^ ]*\).*/\1/p" "$PINS")"
    [[ -n "$v" ]] || { echo "[env] requirements/pins.txt has no '$1==VERSION' line" >&2; exit 1; }
    echo "$v"
}

step() { echo "[env $(date +%H:%M:%S)] $*"; }
start=$(date +%s)

if [[ ! -x "$VENV/bin/python" ]]; then
    step "creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -c "$PINS")

step "build tools (setuptools with pkg_resources for mmcv's setup.py, ninja, wheel, cython)"
"${PIP[@]}" setuptools ninja wheel cython

need_space() {  # need_space GB DIR WHAT -> exit with a clear message when DIR's file system has less than GB free
    local free_gb
    free_gb=$(( $(df -Pk "$2" | awk 'NR==2 {print $4}') / 1024 / 1024 ))
    if (( free_gb < $1 )); then
        echo "[env] $3 needs about $1 GB free in $2, which has $free_gb GB: free disk space (old virtual" \
             "environments, work_dirs, fresh clones under ${TMPDIR:-/tmp}) or point FAMIPOSE_VENV / TMPDIR elsewhere," \
             "then run \`make env\` again" >&2
        exit 1
    fi
}

step "torch $(pin torch) + torchvision $(pin torchvision) from the package registry"
if ! "$VENV/bin/python" -c "import torch, torchvision" 2>/dev/null; then
    # The CUDA builds take about 5 GB in the venv; pip first downloads and unpacks about 3 GB of wheels under TMPDIR.
    tmp="${TMPDIR:-/tmp}"
    if [[ "$(stat -c %d "$VENV")" == "$(stat -c %d "$tmp")" ]]; then
        need_space 8 "$VENV" "installing torch $(pin torch) and torchvision $(pin torchvision)"
    else
        need_space 5 "$VENV" "installing torch $(pin torch) and torchvision $(pin torchvision)"
        need_space 3 "$tmp" "downloading the torch wheels"
    fi
fi
# The machine's find-links holds a CPU-only torch; the registry's torchvision is built against the registry's torch,
# so both come from the registry with the machine's pip configuration switched off (and pip's cache, which would
# keep another 3 GB copy of the wheels).
PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= "${PIP[@]}" --no-cache-dir "torch==$(pin torch)" "torchvision==$(pin torchvision)"

step "numpy 2, opencv, mmengine $(pin mmengine)"
"${PIP[@]}" numpy opencv-python "mmengine==$(pin mmengine)"

if "$VENV/bin/python" -c "import mmcv, mmcv.ops" 2>/dev/null; then
    step "mmcv $(pin mmcv) with ops already installed"
else
    step "mmcv $(pin mmcv) with compiled ops: about 10 minutes on 2 cores the first time on a machine" \
         "(pip caches the wheel; later builds take seconds)"
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "${PIP[@]}" --no-build-isolation "mmcv==$(pin mmcv)"
fi

step "xtcocotools $(pin xtcocotools) built against numpy 2"
"${PIP[@]}" --no-build-isolation --no-binary xtcocotools "xtcocotools==$(pin xtcocotools)"

step "mmpose $(pin mmpose), mmdet $(pin mmdet), openmim $(pin openmim) (without their broken dependency chains)"
# mmpose requires chumpy (does not build; SMPL only); openmim's opendatalab chain downgrades setuptools/requests.
"${PIP[@]}" --no-deps "mmpose==$(pin mmpose)" "mmdet==$(pin mmdet)" "openmim==$(pin openmim)"
"${PIP[@]}" json_tricks munkres scipy matplotlib pillow six tqdm \
    pycocotools shapely terminaltables \
    click colorama model-index pandas requests rich tabulate

step "test and lint tools"
"${PIP[@]}" pytest flake8 isort

step "famipose (this project, editable, linked with \`setup.py develop\` so that \`mim train famipose\` finds it)"
# A PEP 660 editable install reports site-packages as the distribution's location, where openmim then looks for
# famipose_mmpose/.mim/tools and fails; the develop link reports the source tree, as OpenMMLab's own installs do.
"$VENV/bin/python" -m pip uninstall -y -q famipose 2>/dev/null || true
(cd "$ROOT" && "$VENV/bin/python" -W ignore setup.py -q develop --no-deps > /dev/null)

step "checking the stack"
"$VENV/bin/python" - <<'PY'
import mmcv, mmcv.ops, mmdet, mmengine, mmpose, torch, torchvision, xtcocotools  # noqa: F401
import famipose_mmpose  # noqa: F401
print(f'[env] torch {torch.__version__}, torchvision {torchvision.__version__}, mmcv {mmcv.__version__}, '
      f'mmengine {mmengine.__version__}, mmpose {mmpose.__version__}, mmdet {mmdet.__version__}')
PY
echo "$want_stamp" > "$STAMP"
step "done in $(( $(date +%s) - start )) s"
