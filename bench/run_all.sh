#!/bin/sh
# Run every benchmark with the settings of the published tables (about 20 minutes on
# 2 cores), then check the targets. Results go to bench/results/.
cd "$(dirname "$0")/.." || exit 1
python3 bench/failover.py --reps 3
python3 bench/throughput.py --reps 3 --seconds 1.5
python3 bench/scale.py --window 15 --discovery-timeout 60
python3 bench/sim_speed.py --reps 2 --examples 30
python3 bench/targets.py
