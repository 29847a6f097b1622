#!/bin/bash
# Demo quality at a fixed step count (BENCHMARKS.md, "Demo quality (issue 13)").
#
#   bash scripts/bench_demo_quality.sh OUT NAME STEPS [train flags...]
#
# Generates the demo's dataset (default brief, 120 training + 15 held-out views at 192x144, seed 0) into OUT/data
# once (reused when it exists: one OUT per camera placement, i.e. per checkout), writes the fixed tour
# OUT/tour_plan.json once (the demo's keyframed plan tour of the default apartment: 200 frames, 256x192, 10 fps;
# the same cameras for every variant), then trains OUT/NAME for exactly STEPS steps (seed 0, one thread: the
# result does not depend on the machine's load), evaluates it on the held-out views and writes the tour report
# (ground-truth PSNR per frame, at half the tour's resolution as the demo does) to OUT/NAME.rep/.
set -euo pipefail
OUT=$1; NAME=$2; STEPS=$3; shift 3
PY=${PYTHON:-python}
M="-m scenegen.cli.main"
mkdir -p "$OUT"
if [ ! -f "$OUT/data/transforms.json" ]; then
  $PY $M generate --output "$OUT/data" --views 120 --width 192 --height 144 --seed 0 --no-progress
fi
if [ ! -f "$OUT/tour_plan.json" ]; then
  $PY - "$OUT/tour_plan.json" <<'EOF'
import sys
from pathlib import Path
from scenegen.data.prior.generate import brief_scene
from scenegen.paths import save_path_spec
from scenegen.pipelines.demo import DemoConfig, plan_tour
_, scene, plan = brief_scene(None, seed=0)
save_path_spec(plan_tour(plan, DemoConfig(), scene=scene), Path(sys.argv[1]))
EOF
fi
RUN="$OUT/$NAME"
$PY $M train --data "$OUT/data" --output "$RUN" --max-steps "$STEPS" --seed 0 --threads 1 --eval-every 0 --no-progress "$@"
$PY $M eval --run "$RUN" --no-progress
mkdir -p "$RUN.rep"
$PY $M report --run "$RUN" --camera-path "$OUT/tour_plan.json" --output "$RUN.rep" --scale 0.5 --no-progress
