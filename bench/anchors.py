"""TFLM figures the benchmarks print beside ours (bench/speed.py, bench/memory.py)."""

from __future__ import annotations

# External reference figures, not our measurements: ../shared/docs/anchors.md, table "TFLM on
# Cortex-M4F, measured here the way we measure ourselves" (TFLM release build, gcc 12.2,
# -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard, QEMU mps2-an386 -icount shift=6,
# instructions per Invoke; code bytes without the model; arena bytes on 32-bit).
# Keyed by the model's path under ../shared/models.
TFLM_M4: dict[str, dict[str, object]] = {
    "tflm/hello_world/hello_world_int8.tflite": {
        "name": "hello_world", "macs": 288, "ref_ipm": 18.3, "cmsis_ipm": 12.2,
        "code_ref": 20_044, "code_cmsis": 27_852, "arena": 676},
    "mlperf_tiny/ad/ad01_int8.tflite": {
        "name": "MLPerf AD", "macs": 264_000, "ref_ipm": 7.39, "cmsis_ipm": 2.21,
        "code_ref": 20_044, "code_cmsis": 27_852, "arena": 2_260},
    "mlperf_tiny/kws/kws_ref_model.tflite": {
        "name": "MLPerf KWS", "macs": 2_660_000, "ref_ipm": 16.20, "cmsis_ipm": 2.90,
        "code_ref": 41_036, "code_cmsis": 53_108, "arena": 22_772},
    "mlperf_tiny/ic/pretrainedResnet_quant.tflite": {
        "name": "MLPerf IC", "macs": 12_500_000, "ref_ipm": 8.59, "cmsis_ipm": 2.39,
        "code_ref": 45_448, "code_cmsis": 50_912, "arena": 54_340},
    "mlperf_tiny/vww/vww_96_int8.tflite": {
        "name": "MLPerf VWW", "macs": 7_490_000, "ref_ipm": 13.39, "cmsis_ipm": 3.22,
        "code_ref": 41_036, "code_cmsis": 53_108, "arena": 100_660},
    "tflm/person_detection/person_detect.tflite": {
        "name": "person_detect", "macs": 7_160_000, "ref_ipm": 13.36, "cmsis_ipm": 3.20,
        "code_ref": 36_860, "code_cmsis": 43_364, "arena": 82_292},
}
