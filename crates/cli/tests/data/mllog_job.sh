#!/bin/sh
# A training job for the `yardstick train -- CMD` tests: writes a log that
# passes the Training 5.1 compliance rules (open division, retinanet), with
# fixed times so that time-to-train is exactly $SEED minutes.
#   MODE=stdout (default) | file (to $YARDSTICK_MLLOG) | exit137 (dies after
#   the first eval) | hang (sleeps after the first eval) | linger (sleeps
#   after run_stop) | fail (exits 3 after run_stop) | realtime (stamps are
#   the wall clock and run_start to run_stop lasts ~0.8 s; with
#   RAPL_ENERGY_FILE set, 10 J are added to that fake RAPL counter midway)
set -e
mode="${MODE:-stdout}"
out() {
    if [ "$mode" = file ]; then echo "$1" >> "$YARDSTICK_MLLOG"; else echo "$1"; fi
}
ev() { # event_type key value time metadata
    out ":::MLLOG {\"namespace\": \"\", \"time_ms\": $4, \"event_type\": \"$1\", \"key\": \"$2\", \"value\": $3, \"metadata\": {\"file\": \"mllog_job.sh\", \"lineno\": 1$5}}"
}
t0=1000000
[ "$mode" = realtime ] && t0=$(date +%s%3N)
start=$((t0 + 100))
stop=$((start + 60000 * SEED))
echo "job: seed $SEED, run $YARDSTICK_RUN_INDEX, YARDSTICK_SEED $YARDSTICK_SEED"
ev POINT_IN_TIME cache_clear true $t0
ev INTERVAL_START init_start null $t0
ev POINT_IN_TIME submission_benchmark '"retinanet"' $t0
ev POINT_IN_TIME submission_org '"yardstick"' $t0
ev POINT_IN_TIME submission_division '"open"' $t0
ev POINT_IN_TIME submission_platform '"sh"' $t0
ev POINT_IN_TIME seed "$SEED" $t0
ev INTERVAL_END init_stop null $((t0 + 50))
ev INTERVAL_START run_start null $start
ev POINT_IN_TIME train_samples 100 $start
ev POINT_IN_TIME eval_samples 10 $start
for epoch in 1 2; do
    t=$((start + epoch * 1000))
    ev INTERVAL_START block_start null $t ", \"first_epoch_num\": $epoch, \"epoch_count\": 1"
    ev INTERVAL_START epoch_start null $t ", \"epoch_num\": $epoch"
    ev INTERVAL_END epoch_stop null $t ", \"epoch_num\": $epoch"
    ev INTERVAL_START eval_start null $t ", \"epoch_num\": $epoch"
    ev POINT_IN_TIME eval_accuracy "0.$((epoch * 4))5" $t ", \"epoch_num\": $epoch"
    ev INTERVAL_END eval_stop null $t ", \"epoch_num\": $epoch"
    ev INTERVAL_END block_stop null $t ", \"first_epoch_num\": $epoch"
    case "$mode" in
        exit137) exit 137 ;;
        hang) sleep 30 ;;
    esac
done
if [ "$mode" = realtime ]; then
    sleep 0.4
    if [ -n "${RAPL_ENERGY_FILE:-}" ]; then
        echo $(( $(cat "$RAPL_ENERGY_FILE") + 10000000 )) > "$RAPL_ENERGY_FILE.tmp"
        mv "$RAPL_ENERGY_FILE.tmp" "$RAPL_ENERGY_FILE"
    fi
    sleep 0.5
    stop=$(date +%s%3N)
fi
ev INTERVAL_END run_stop null $stop ', "status": "success"'
case "$mode" in
    linger) sleep 30 ;;
    fail) exit 3 ;;
esac
exit 0
